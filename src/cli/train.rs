//! `polycap train` (being written).

/// Flags of `polycap train`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `polycap train`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("polycap train is not built yet")
}
