//! `polycap reproduce` (being written).

/// Flags of `polycap reproduce`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `polycap reproduce`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("polycap reproduce is not built yet")
}
