//! The held position from entry and exit conditions (`workbench.strategies.signals.hold_positions`).

/// The position state machine of `hold_positions`, one bar at a time:
///
/// ```text
/// if long_entry and not short_entry: pos = 1
/// elif short_entry and not long_entry: pos = -1
/// elif long_entry and short_entry: pos = 0
/// elif pos == 1 and long_exit: pos = 0
/// elif pos == -1 and short_exit: pos = 0
/// ```
///
/// Long-only (`hold_positions(long_entry, long_exit)`): on at an entry, off at an exit, an
/// entry winning over an exit on the same bar.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Hold {
    pos: i8,
}

impl Hold {
    /// Flat.
    pub fn new() -> Self {
        Hold { pos: 0 }
    }

    /// Long and short: the position after this bar's conditions.
    #[inline]
    pub fn step(
        &mut self,
        long_entry: bool,
        long_exit: bool,
        short_entry: bool,
        short_exit: bool,
    ) -> i8 {
        self.pos = match (long_entry, short_entry) {
            (true, false) => 1,
            (false, true) => -1,
            (true, true) => 0,
            (false, false) => match self.pos {
                1 if long_exit => 0,
                -1 if short_exit => 0,
                p => p,
            },
        };
        self.pos
    }

    /// Long only: the position after this bar's conditions.
    #[inline]
    pub fn step_long(&mut self, entry: bool, exit: bool) -> i8 {
        if entry {
            self.pos = 1;
        } else if exit {
            self.pos = 0;
        }
        self.pos
    }

    /// The current position.
    pub fn position(&self) -> i8 {
        self.pos
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_reverse_and_exits_end_their_own_side() {
        let mut h = Hold::new();
        assert_eq!(h.step(true, false, false, false), 1);
        assert_eq!(h.step(false, false, false, true), 1); // a short exit does not end a long
        assert_eq!(h.step(false, false, true, false), -1);
        assert_eq!(h.step(false, true, false, false), -1);
        assert_eq!(h.step(false, false, false, true), 0);
        assert_eq!(h.step(true, false, false, false), 1);
        assert_eq!(h.step(true, false, true, false), 0); // conflicting entries
        let mut l = Hold::new();
        assert_eq!(l.step_long(true, true), 1);
        assert_eq!(l.step_long(false, true), 0);
    }
}
