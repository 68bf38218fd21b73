//! `polycap bench` (being written).

/// Flags of `polycap bench`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `polycap bench`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("polycap bench is not built yet")
}
