//! `polycap allocate` (being written).

/// Flags of `polycap allocate`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `polycap allocate`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("polycap allocate is not built yet")
}
