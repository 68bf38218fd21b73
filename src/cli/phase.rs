//! `polycap phase` (being written).

/// Flags of `polycap phase`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `polycap phase`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("polycap phase is not built yet")
}
