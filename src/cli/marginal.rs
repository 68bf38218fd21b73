//! `polycap marginal` (being written).

/// Flags of `polycap marginal`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `polycap marginal`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("polycap marginal is not built yet")
}
