//! Every trained figure sharded and merged renders byte for byte like the unsharded run
//! (V7), with the shards' results passed through JSON text as `reproduce --shard` writes them.

use polycap::base::{Shard, ShardResults, merge_shards};
use polycap::figures::Figure;
use polycap::figures::Parameters;
use polycap::figures::style::FontChoice;
use polycap::figures::{Quality, Reproduction, ReproductionSettings, registry};
use serde_json::Value;

#[test]
fn sharded_trained_figures_merge_to_the_unsharded_bytes() {
    let trained: Vec<_> = registry().into_iter().filter(|e| e.trains).collect();
    assert!(trained.len() >= 6, "every trained figure is in the sweep");
    let sweep = Reproduction::new(trained, Quality::Quick, FontChoice::Serif);
    let whole: Vec<Value> = sweep
        .run(None, &|| ())
        .expect("runs")
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    let direct = sweep.render(whole).expect("renders");
    // 4 shards (more than some figures have jobs), each written to text and read back.
    let shards: Vec<ShardResults<ReproductionSettings, Value>> = (0..4)
        .map(|i| {
            let s = sweep
                .run_shard(Shard::new(i, 4).expect("valid"), &|| ())
                .expect("shard runs");
            let text = serde_json::to_string(&s).expect("serialises");
            serde_json::from_str(&text).expect("parses")
        })
        .collect();
    let (settings, results) = merge_shards(shards).expect("merges");
    let merged = Reproduction::from_settings(&settings)
        .expect("known figures")
        .render(results)
        .expect("renders");
    assert_eq!(direct.len(), merged.len());
    for ((e, a), (_, b)) in direct.iter().zip(&merged) {
        assert_eq!(a.svg, b.svg, "{}: SVG differs", e.id);
        assert_eq!(a.csv, b.csv, "{}: CSV differs", e.id);
        assert_eq!(a.title, b.title, "{}", e.id);
    }
    // The plan's own `data` (one figure, every job in-process) gives the same figure.
    let e = registry()
        .into_iter()
        .find(|e| e.id == "fig7-empirical-phase-diagrams")
        .expect("fig7 registered");
    let alone = e
        .render(Quality::Quick, FontChoice::Serif)
        .expect("renders");
    let (_, m) = merged.iter().find(|(x, _)| x.id == e.id).expect("in sweep");
    assert_eq!(alone.svg, m.svg);
}

/// Paper resolution is reachable and differs from the default where the papers' grids are
/// finer: Fig. 7 at 25 × 25 × 3 seeds × 10 000 steps, the scatter at 25 × 25.
#[test]
fn paper_resolution_plans_the_papers_grids() {
    use polycap::figures::{fig7_empirical, verify_scatter};
    let p = fig7_empirical::Params::paper_resolution();
    assert_eq!((p.grid, p.seeds, p.steps), ((25, 25), 3, 10_000));
    assert_eq!(fig7_empirical::Fig::jobs(&p), 9 * 25);
    assert_eq!(
        verify_scatter::Fig::jobs(&verify_scatter::Params::paper_resolution()),
        2 * 625
    );
    let jobs = |q| {
        Reproduction::new(
            registry().into_iter().filter(|e| e.trains).collect(),
            q,
            FontChoice::Serif,
        )
        .settings()
        .figures
    };
    let (paper, default) = (jobs(Quality::Paper), jobs(Quality::Default));
    let n = |v: &[(String, usize)], id: &str| {
        v.iter()
            .find(|(x, _)| x == id)
            .map(|(_, n)| *n)
            .expect("figure")
    };
    assert_eq!(n(&paper, "fig7-empirical-phase-diagrams"), 9 * 25);
    assert_eq!(n(&default, "fig7-empirical-phase-diagrams"), 9 * 12);
    assert_eq!(n(&paper, "verify-scatter"), 2 * 625);
    assert_eq!(n(&paper, "fig4-trained-phase-diagram"), 625);
}
