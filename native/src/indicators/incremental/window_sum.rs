//! Sums of the last `period` values, bit for bit the vectorized pairwise window sums.

/// The sum of the last `period` values, added in exactly the order of
/// `workbench.strategies.indicators._window_sums`, so the same bits.
///
/// That function sums each window from blocks of 1, 2, 4, ... values (a block of `2^k` is the
/// sum of its two halves), taking the powers of two of `period` from the smallest up. Here a
/// ring per block size keeps the recent block sums ending at each bar: a new value adds one
/// block sum per size and the window is the sum of `popcount(period)` blocks, so an update
/// costs O(log period) additions (7 levels for a 100-bar window) and the rounding error is a
/// few ulps of the window's values however long the series, unlike a running sum.
#[derive(Clone, Debug)]
pub struct WindowSum {
    period: usize,
    /// `levels[k]`: sums of the `2^k` values ending at each recent bar, by `bar & mask`.
    levels: Vec<Ring>,
    /// The blocks of a window, smallest first: (level, bars before the newest that it ends).
    parts: Vec<(usize, u64)>,
    t: u64,
}

#[derive(Clone, Debug)]
struct Ring {
    buf: Vec<f64>,
    mask: u64,
}

impl Ring {
    fn new(lookback: u64) -> Self {
        let cap = (lookback + 1).next_power_of_two();
        Ring {
            buf: vec![0.0; cap as usize],
            mask: cap - 1,
        }
    }

    #[inline(always)]
    fn get(&self, t: u64) -> f64 {
        self.buf[(t & self.mask) as usize]
    }

    #[inline(always)]
    fn set(&mut self, t: u64, v: f64) {
        self.buf[(t & self.mask) as usize] = v;
    }
}

impl WindowSum {
    /// Sums over `period` (>= 1) values; `None` for 0.
    pub fn new(period: usize) -> Option<Self> {
        if period == 0 {
            return None;
        }
        let p = period as u64;
        let n_levels = (u64::BITS - p.leading_zeros()) as usize; // sizes 1, 2, .. <= p
        let mut parts = Vec::new();
        let mut offset = 0u64; // values of the window before this block
        for k in 0..n_levels {
            let size = 1u64 << k;
            if p & size != 0 {
                // The block covers window positions offset..offset + size: it ends
                // p - offset - size bars before the newest value.
                parts.push((k, p - offset - size));
                offset += size;
            }
        }
        let levels = (0..n_levels)
            .map(|k| {
                let size = 1u64 << k;
                // Read back `size` bars to build the next level, and back to where this
                // level's block of the window ends.
                let for_next = if k + 1 < n_levels { size } else { 0 };
                let for_window = parts
                    .iter()
                    .find(|&&(level, _)| level == k)
                    .map_or(0, |&(_, back)| back);
                Ring::new(for_next.max(for_window))
            })
            .collect();
        Some(WindowSum {
            period,
            levels,
            parts,
            t: 0,
        })
    }

    /// The window length.
    pub fn period(&self) -> usize {
        self.period
    }

    /// Add the next value; the sum of the last `period` values, `None` until there are that
    /// many. A NaN (or infinity) makes every window holding it NaN (or infinite), as in the
    /// vectorized sums.
    #[inline]
    pub fn update(&mut self, x: f64) -> Option<f64> {
        let t = self.t;
        self.t += 1;
        self.levels[0].set(t, x);
        for k in 1..self.levels.len() {
            let half = 1u64 << (k - 1);
            let (lower, upper) = self.levels.split_at_mut(k);
            let below = &lower[k - 1];
            // Before bar 2^k - 1 this reads unwritten slots: such sums are never used.
            let v = below.get(t.wrapping_sub(half)) + below.get(t);
            upper[0].set(t, v);
        }
        if self.t < self.period as u64 {
            return None;
        }
        let mut parts = self.parts.iter();
        let &(k0, back0) = parts.next()?;
        let mut sum = self.levels[k0].get(t - back0);
        for &(k, back) in parts {
            sum += self.levels[k].get(t - back);
        }
        Some(sum)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `_window_sums` transcribed: whole-array levels, then the blocks of `p`.
    fn vectorized(a: &[f64], p: usize) -> Vec<f64> {
        let m = a.len() + 1 - p;
        let mut result: Option<Vec<f64>> = None;
        let mut offset = 0;
        let mut level = a.to_vec();
        let mut size = 1;
        loop {
            if p & size != 0 {
                let part = &level[offset..offset + m];
                match result.as_mut() {
                    None => result = Some(part.to_vec()),
                    Some(r) => r.iter_mut().zip(part).for_each(|(r, v)| *r += v),
                }
                offset += size;
            }
            if size * 2 > p {
                break;
            }
            level = (0..level.len() - size)
                .map(|i| level[i] + level[i + size])
                .collect();
            size *= 2;
        }
        result.unwrap()
    }

    #[test]
    fn equals_the_vectorized_sums_bit_for_bit() {
        let mut s = 0x2545_f491_4f6c_dd1du64;
        let a: Vec<f64> = (0..700)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s >> 11) as f64 / (1u64 << 53) as f64 * 3.0 - 1.0
            })
            .collect();
        for p in [1, 2, 3, 5, 7, 8, 13, 20, 55, 64, 100, 127, 200] {
            let want = vectorized(&a, p);
            let mut w = WindowSum::new(p).unwrap();
            for (t, &v) in a.iter().enumerate() {
                match w.update(v) {
                    None => assert!(t + 1 < p),
                    Some(got) => {
                        assert_eq!(got.to_bits(), want[t + 1 - p].to_bits(), "p={p} t={t}")
                    }
                }
            }
        }
        assert!(WindowSum::new(0).is_none());
    }

    #[test]
    fn a_nan_spoils_only_the_windows_holding_it() {
        let mut w = WindowSum::new(3).unwrap();
        let out: Vec<Option<f64>> = [1.0, f64::NAN, 2.0, 3.0, 4.0, 5.0]
            .iter()
            .map(|&v| w.update(v))
            .collect();
        assert!(out[2].unwrap().is_nan() && out[3].unwrap().is_nan());
        assert_eq!(out[4], Some(9.0));
        assert_eq!(out[5], Some(12.0));
    }
}
