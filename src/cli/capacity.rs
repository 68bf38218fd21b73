//! `polycap capacity` (being written).

/// Flags of `polycap capacity`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `polycap capacity`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("polycap capacity is not built yet")
}
