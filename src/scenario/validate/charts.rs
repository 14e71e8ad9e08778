//! `charts`: image size and ladder diagram limits.

use super::{Validator, k};
use crate::scenario::ScenarioError;
use crate::scenario::raw::RawCharts;
use crate::spec::ChartSpec;

impl Validator<'_> {
    pub(super) fn charts(&self, ch: &RawCharts) -> Result<ChartSpec, ScenarioError> {
        for (f, v) in [("width_px", ch.width_px), ("height_px", ch.height_px)] {
            if !(200..=8000).contains(&v) {
                return Err(self.err(
                    &[k("charts"), k(f)],
                    format!("{v}: must be within 200..=8000"),
                ));
            }
        }
        if ch.ladder_max_segments > 500 {
            return Err(self.err(&[k("charts"), k("ladder_max_segments")], "at most 500"));
        }
        Ok(ChartSpec {
            width_px: ch.width_px,
            height_px: ch.height_px,
            ladder_connections: ch.ladder_connections,
            ladder_max_segments: ch.ladder_max_segments,
        })
    }
}
