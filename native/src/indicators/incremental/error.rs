//! Why an incremental indicator refused a bar.

use std::fmt;

/// A bar an incremental indicator or signal cannot take. The state is left unchanged, so the
/// caller may skip the bar and go on.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum IndicatorError {
    /// A price that is NaN (or infinite, where the indicator needs finite prices).
    NotFinite {
        /// Which input (`"x"`, `"high"`, `"low"`, `"close"`).
        field: &'static str,
        /// The value given.
        value: f64,
    },
}

impl fmt::Display for IndicatorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IndicatorError::NotFinite { field, value } => write!(
                f,
                "{field} is {value}: an incremental indicator takes finite prices (the bar was \
                 not applied; skip or repair it)"
            ),
        }
    }
}

impl std::error::Error for IndicatorError {}

/// `Ok(())` when `value` is finite, else [`IndicatorError::NotFinite`] naming `field`.
pub(crate) fn finite(field: &'static str, value: f64) -> Result<(), IndicatorError> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(IndicatorError::NotFinite { field, value })
    }
}
