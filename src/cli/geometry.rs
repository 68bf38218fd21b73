//! `polycap geometry` (being written).

/// Flags of `polycap geometry`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `polycap geometry`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("polycap geometry is not built yet")
}
