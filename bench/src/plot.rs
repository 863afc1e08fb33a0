//! The SVG plot of a ramp: latency percentiles against offered load. Several
//! runs of the same ramp are combined step by step into their medians.

use std::path::Path;

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::scenario::fanout::Step;

/// The median of each step across runs (steps at the same index share a rate).
pub fn median_steps(runs: &[Vec<Step>]) -> Vec<Step> {
    let longest = runs.iter().map(Vec::len).max().unwrap_or(0);
    (0..longest)
        .filter_map(|i| {
            let at: Vec<&Step> = runs.iter().filter_map(|r| r.get(i)).collect();
            let mut step = (*at.first()?).clone();
            let med = |f: &dyn Fn(&Step) -> f64| median(at.iter().map(|s| f(s)).collect());
            step.achieved_dps = med(&|s| s.achieved_dps);
            step.latency.p50_ms = med(&|s| s.latency.p50_ms);
            step.latency.p90_ms = med(&|s| s.latency.p90_ms);
            step.latency.p99_ms = med(&|s| s.latency.p99_ms);
            step.latency.max_ms = med(&|s| s.latency.max_ms);
            step.bench_cores = med(&|s| s.bench_cores);
            step.server_cores = med(&|s| s.server_cores);
            step.sustained = at.iter().filter(|s| s.sustained).count() * 2 > at.len();
            Some(step)
        })
        .collect()
}

/// The median of some numbers (the lower middle one for an even count).
pub fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[(v.len() - 1) / 2]
}

/// Writes the plot of `runs` (medians per step when there are several).
pub fn latency_vs_load(path: &Path, runs: &[Vec<Step>], title: &str) -> anyhow::Result<()> {
    let steps = median_steps(runs);
    anyhow::ensure!(!steps.is_empty(), "nothing to plot");
    let bounds = Bounds::of(&steps);
    let root = SVGBackend::new(path, (960, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(plot_error)?;
    let caption = format!(
        "{title} ({} run{})",
        runs.len(),
        if runs.len() == 1 { "" } else { "s, medians" }
    );
    let mut chart = axes(&root, caption, &bounds)?;
    for series in SERIES {
        draw_series(&mut chart, &steps, series, bounds.y_min)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(plot_error)?;
    root.present().map_err(plot_error)?;
    Ok(())
}

/// The x axis: offered load in thousands of deliveries per second.
fn load_k(s: &Step) -> f64 {
    s.offered_dps / 1000.0
}

/// The plotted ranges: load from 0, latency on a log scale.
struct Bounds {
    x_max: f64,
    y_min: f64,
    y_max: f64,
}

impl Bounds {
    fn of(steps: &[Step]) -> Self {
        let x_max = steps.iter().map(load_k).fold(1.0, f64::max) * 1.05;
        let y_max = steps.iter().map(|s| s.latency.max_ms).fold(1.0, f64::max) * 2.0;
        // A log scale needs a floor above zero: half the lowest p50, within 5 µs..0.5 ms.
        let y_min = steps
            .iter()
            .map(|s| s.latency.p50_ms)
            .fold(f64::INFINITY, f64::min)
            .clamp(0.01, 1.0)
            / 2.0;
        Bounds {
            x_max,
            y_min,
            y_max,
        }
    }
}

type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, LogCoord<f64>>>;

/// The chart area with its caption, axes, grid and axis labels.
fn axes<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, Shift>,
    caption: String,
    bounds: &Bounds,
) -> anyhow::Result<Chart<'a, 'b>> {
    let mut chart = ChartBuilder::on(root)
        .caption(caption, ("sans-serif", 22))
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..bounds.x_max, (bounds.y_min..bounds.y_max).log_scale())
        .map_err(plot_error)?;
    chart
        .configure_mesh()
        .x_desc("offered deliveries/s (thousands)")
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| {
            if *v >= 1.0 {
                format!("{v:.0}")
            } else {
                format!("{v}")
            }
        })
        .y_desc("end-to-end latency (ms, log)")
        .draw()
        .map_err(plot_error)?;
    Ok(chart)
}

/// A line of the plot: its name, colour and the value it draws.
type Series = (&'static str, RGBColor, fn(&Step) -> f64);

const SERIES: [Series; 4] = [
    ("p50", RGBColor(31, 119, 180), |s| s.latency.p50_ms),
    ("p90", RGBColor(44, 160, 44), |s| s.latency.p90_ms),
    ("p99", RGBColor(214, 39, 40), |s| s.latency.p99_ms),
    ("max", RGBColor(120, 120, 120), |s| s.latency.max_ms),
];

/// One series as a line with a legend entry and a dot per step; values
/// below `y_min` are drawn on the floor.
fn draw_series(
    chart: &mut Chart<'_, '_>,
    steps: &[Step],
    (name, color, value): Series,
    y_min: f64,
) -> anyhow::Result<()> {
    let points: Vec<(f64, f64)> = steps
        .iter()
        .map(|s| (load_k(s), value(s).max(y_min)))
        .collect();
    chart
        .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
        .map_err(plot_error)?
        .label(name)
        .legend(move |(lx, ly)| {
            PathElement::new(vec![(lx, ly), (lx + 20, ly)], color.stroke_width(2))
        });
    // Filled dots where the step was sustained, hollow where it was not.
    let dots = steps.iter().zip(points).map(|(s, p)| {
        Circle::new(
            p,
            4,
            if s.sustained {
                color.filled()
            } else {
                color.stroke_width(1)
            },
        )
    });
    chart.draw_series(dots).map_err(plot_error)?;
    Ok(())
}

fn plot_error(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("plotting: {e}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hist::Summary;

    fn step(rate: f64, p99: f64) -> Step {
        let latency = Summary {
            count: 10,
            p50_ms: p99 / 4.0,
            p90_ms: p99 / 2.0,
            p99_ms: p99,
            max_ms: p99 * 2.0,
        };
        Step {
            rate_msgs: rate,
            offered_dps: rate * 100.0,
            achieved_dps: rate * 100.0,
            latency,
            cross: Summary::default(),
            bench_cores: 1.0,
            server_cores: 1.0,
            sustained: p99 < 100.0,
        }
    }

    #[test]
    fn medians_per_step_and_an_svg_with_text() {
        let runs = vec![
            vec![step(100.0, 5.0), step(200.0, 50.0)],
            vec![step(100.0, 7.0), step(200.0, 500.0)],
            vec![step(100.0, 6.0)],
        ];
        let m = median_steps(&runs);
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].latency.p99_ms, 6.0);
        assert_eq!(m[1].latency.p99_ms, 50.0);
        let path = std::env::temp_dir().join(format!("chat-bench-plot-{}.svg", std::process::id()));
        latency_vs_load(&path, &runs, "test").unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        assert!(
            svg.starts_with("<svg") && svg.contains("p99") && svg.contains("offered deliveries/s")
        );
    }
}
