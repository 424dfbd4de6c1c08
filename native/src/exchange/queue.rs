//! Queue-position models for own (virtual) resting orders (see [`QueueModel`]).

use super::error::ExchangeError;
use super::latency::Pcg;

/// The function weighing the two sides of a queue in [`QueueModel::Probabilistic`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ProbFunc {
    /// `f(x) = x^n` (hftbacktest's `PowerProbQueueFunc`; `n = 2` or `3` are usual).
    Power(f64),
    /// `f(x) = ln(1 + x)` (hftbacktest's `LogProbQueueFunc`).
    Log,
}

impl ProbFunc {
    #[inline]
    fn f(self, x: f64) -> f64 {
        match self {
            ProbFunc::Power(n) => x.powf(n),
            ProbFunc::Log => x.ln_1p(),
        }
    }

    /// Probability that a removal at the level came from behind us.
    #[inline]
    pub fn prob_behind(self, front: u64, back: u64) -> f64 {
        let fb = self.f(back as f64);
        let ff = self.f(front as f64);
        let p = fb / (fb + ff);
        if p.is_finite() {
            p
        } else {
            1.0
        }
    }
}

/// Queue-position models for own (virtual) resting orders.
///
/// Own orders are not in the replayed feed: each one keeps an estimate of the
/// real size resting ahead of it at its price (`ahead`), set to the whole
/// level's size when it joins (the back of the queue) and advanced by the
/// feed's records at that level, as hftbacktest's queue models do:
///
/// - A fill (`F`) of `q` contracts of a real order at our level: `ahead -= q`;
///   what exceeds `ahead` would, in a FIFO queue, have filled us: it fills our
///   order (shared by own orders in price-time priority). A fill of a real
///   order at a price worse than ours fills us with its whole size when
///   `ahead == 0`. The venue sends every `F` before the `C`/`M` that removes
///   the filled size; those size reductions are recognised (same order id,
///   same event) and are not counted as cancels.
/// - A size reduction that is not a fill (cancel, modify down) or a loss of
///   priority (modify to another price, or a size increase) is a *removal*;
///   the models differ only here:
///   - [`QueueModel::Conservative`] (hftbacktest's `RiskAdverseQueueModel`):
///     removals never advance us. The only exception is the cap below.
///   - [`QueueModel::L3Known`]: the ids and sizes of the real orders ahead are
///     taken from the L3 book at entry; a removal advances us only when its
///     order id is one of them (by the removed size; a priority loss removes
///     the order whole). This is the exact FIFO position, and a fill of a real
///     order that is not ahead of us fills us only when nothing known is ahead.
///   - [`QueueModel::Probabilistic`] (hftbacktest's `ProbQueueModel`, drawn
///     rather than averaged): a removal of `c` contracts at a level with
///     `front = ahead` and `back = level - ahead` is taken from behind us with
///     probability `f(back) / (f(back) + f(front))` (else from ahead, `ahead -= c`),
///     drawn with the exchange's seeded generator; when less than `c` is behind,
///     the excess comes from ahead. `f(x) = x^n` ([`ProbFunc::Power`]) or
///     `ln(1 + x)` ([`ProbFunc::Log`]).
/// - Cap (all models): `ahead <= level size`, since every real order ahead is
///   still in the level. The cap can only bring the estimate down to a value
///   the truth cannot exceed, so a conservative estimate stays an upper bound
///   of the true size ahead (the real-data test checks this on ESH4).
/// - After an `R` (book clear) the known ids are dropped (`L3Known` then
///   behaves as `Conservative` for that order).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum QueueModel {
    /// Only fills at the level advance us (and the cap at the level's size).
    #[default]
    Conservative,
    /// Fills, and removals of the real orders known (by L3 id) to be ahead of us.
    L3Known,
    /// Fills, and removals attributed ahead of us at random (seeded).
    Probabilistic(ProbFunc),
}

impl QueueModel {
    pub(crate) fn check(&self) -> Result<(), ExchangeError> {
        match *self {
            QueueModel::Probabilistic(ProbFunc::Power(n)) if !(n.is_finite() && n > 0.0) => {
                Err(ExchangeError::InvalidQueueParameter(n))
            }
            _ => Ok(()),
        }
    }
}

/// The queue state of one own resting order.
#[derive(Debug, Clone, Default)]
pub(crate) struct QueueState {
    /// Estimated real size ahead.
    pub ahead: u64,
    /// Size ahead when the order joined the queue.
    pub entry_ahead: u64,
    /// `L3Known`: (order id, size) of the real orders ahead.
    pub known: Vec<(u64, u32)>,
}

impl QueueState {
    /// A fill of `q` contracts of real order `id` at our level; returns the
    /// volume that passes us (would have filled us).
    #[inline]
    pub fn on_fill_at_level(&mut self, model: QueueModel, id: u64, q: u64) -> u64 {
        match model {
            QueueModel::L3Known if !self.known.is_empty() => {
                if let Some(i) = self.known.iter().position(|k| k.0 == id) {
                    let size = u64::from(self.known[i].1);
                    let take = q.min(size);
                    self.ahead = self.ahead.saturating_sub(take);
                    if take >= size {
                        self.known.swap_remove(i);
                    } else {
                        self.known[i].1 -= take as u32;
                    }
                    if self.known.is_empty() {
                        self.ahead = 0;
                    }
                    q - take
                } else {
                    // A real order behind us (or unknown) traded while known
                    // orders are still ahead: not FIFO; we do not fill.
                    0
                }
            }
            _ => {
                let take = q.min(self.ahead);
                self.ahead -= take;
                q - take
            }
        }
    }

    /// A removal (not a fill) of `c` contracts of real order `id` at our
    /// level, whose size before the record was `level_before`; `whole` when
    /// the order left the level (or lost priority).
    #[inline]
    pub fn on_removal(
        &mut self,
        model: QueueModel,
        rng: &mut Pcg,
        id: u64,
        c: u64,
        whole: bool,
        level_before: u64,
    ) {
        match model {
            QueueModel::Conservative => {}
            QueueModel::L3Known => {
                if let Some(i) = self.known.iter().position(|k| k.0 == id) {
                    let size = u64::from(self.known[i].1);
                    if whole || c >= size {
                        self.ahead = self.ahead.saturating_sub(size);
                        self.known.swap_remove(i);
                    } else {
                        self.ahead = self.ahead.saturating_sub(c);
                        self.known[i].1 -= c as u32;
                    }
                    if self.known.is_empty() {
                        self.ahead = 0;
                    }
                }
            }
            QueueModel::Probabilistic(f) => {
                if c == 0 || self.ahead == 0 {
                    return;
                }
                let front = self.ahead;
                let back = level_before.saturating_sub(front);
                let p = f.prob_behind(front, back);
                let from_ahead = if rng.next_f64() < p {
                    c.saturating_sub(back)
                } else {
                    c
                };
                self.ahead -= from_ahead.min(self.ahead);
            }
        }
    }

    /// Caps the estimate at the level's current size.
    #[inline]
    pub fn cap(&mut self, level: u64) {
        if self.ahead > level {
            self.ahead = level;
        }
    }

    /// After a book clear: known ids are meaningless.
    pub fn on_clear(&mut self) {
        self.known.clear();
    }
}
