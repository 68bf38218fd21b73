//! `polycap verify` (being written).

/// Flags of `polycap verify`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `polycap verify`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("polycap verify is not built yet")
}
