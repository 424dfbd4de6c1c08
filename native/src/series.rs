//! Whole-series scans over bar arrays: order checks, NaN search, runs of a time bucket.
//! (NaN search: NaN or infinite.)
//!
//! Each is one pass with no allocation proportional to the series (fresh multi-megabyte
//! buffers cost more in page faults than the scans themselves).

/// Index of the first value that is not greater than the one before it (unsorted or duplicate
/// timestamps), `None` when the series is strictly increasing.
pub fn first_not_increasing(ts: &[i64]) -> Option<usize> {
    ts.windows(2).position(|w| w[1] <= w[0]).map(|k| k + 1)
}

/// Index of the first NaN or infinity, `None` when every value is finite.
pub fn first_not_finite(x: &[f64]) -> Option<usize> {
    // Chunked so the common case (all finite) is a branch-free reduction per chunk.
    const CHUNK: usize = 256;
    for (c, chunk) in x.chunks(CHUNK).enumerate() {
        if chunk.iter().fold(false, |acc, v| acc | !v.is_finite()) {
            let k = chunk.iter().position(|v| !v.is_finite()).unwrap_or(0);
            return Some(c * CHUNK + k);
        }
    }
    None
}

/// Start index of each run of consecutive timestamps in the same `bucket_ns` bucket
/// (`floor(ts / bucket_ns)`): the first bar of every hour, say. Starts with 0 unless `ts` is
/// empty. `ts` is expected sorted; an unsorted series just gives more runs.
pub fn run_starts(ts: &[i64], bucket_ns: i64) -> Vec<i64> {
    assert!(bucket_ns > 0, "bucket_ns must be positive");
    let mut out = Vec::new();
    // [lo, hi): the current bucket's span; a division only where a new bucket starts.
    let (mut lo, mut hi) = (i64::MAX, i64::MIN);
    for (i, &t) in ts.iter().enumerate() {
        if t < lo || t >= hi {
            lo = t.div_euclid(bucket_ns) * bucket_ns;
            hi = lo.saturating_add(bucket_ns);
            out.push(i as i64);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_step_that_is_not_up() {
        assert_eq!(first_not_increasing(&[1, 2, 3]), None);
        assert_eq!(first_not_increasing(&[1, 2, 2, 1]), Some(2));
        assert_eq!(first_not_increasing(&[5, 4]), Some(1));
        assert_eq!(first_not_increasing(&[]), None);
    }

    #[test]
    fn finds_the_first_value_that_is_not_finite_across_chunks() {
        let mut x = vec![1.0; 1000];
        assert_eq!(first_not_finite(&x), None);
        x[700] = f64::NAN;
        x[900] = f64::NAN;
        assert_eq!(first_not_finite(&x), Some(700));
        x[300] = f64::NEG_INFINITY;
        assert_eq!(first_not_finite(&x), Some(300));
        assert_eq!(first_not_finite(&[f64::NAN]), Some(0));
    }

    #[test]
    fn runs_start_at_each_new_bucket() {
        assert_eq!(run_starts(&[0, 5, 10, 11, 25], 10), vec![0, 2, 4]);
        assert_eq!(run_starts(&[-3, -1, 0], 10), vec![0, 2]);
        assert!(run_starts(&[], 10).is_empty());
        // Leaving a bucket and coming back (unsorted input) starts a new run.
        assert_eq!(run_starts(&[1, 12, 3], 10), vec![0, 1, 2]);
    }
}
