//! What a simulation records: closed trades and risk events, as `#[repr(C)]` records.
//!
//! The Python bindings hand them over as NumPy structured arrays whose dtype is built from
//! [`Trade::fields`] and [`RiskEvent::fields`] (names and offsets read from the structs
//! themselves), without a copy.

use super::codes::{Action, Reason};

/// A closed trade. Prices in whole ticks, money in account currency.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Trade {
    /// Bar whose open filled the entry.
    pub entry_bar: i64,
    /// Bar of the exit (at its open, intrabar, or at its close: see `exit_at_close`).
    pub exit_bar: i64,
    /// +1 long, -1 short.
    pub side: i64,
    pub contracts: i64,
    /// Entry fill, slippage included.
    pub entry_px: i64,
    /// Exit fill, slippage included.
    pub exit_px: i64,
    pub gross_pnl: f64,
    /// Both sides.
    pub commission: f64,
    /// Both sides, in money.
    pub slippage_cost: f64,
    /// `gross_pnl - commission`.
    pub net_pnl: f64,
    /// An [`ExitReason`](super::codes::ExitReason) code.
    pub exit_reason: i64,
    /// 1 when the exit was at the bar's close (roll, end of data), else 0.
    pub exit_at_close: i64,
}

/// A risk decision on an entry request, or a circuit breaker tripping.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RiskEvent {
    pub bar: i64,
    /// An [`Action`] code.
    pub action: i64,
    /// A [`Reason`] code.
    pub reason: i64,
    /// Contracts asked for (0 for a breaker; -1: no stop distance to size from).
    pub requested: i64,
    /// Contracts allowed (0 when rejected).
    pub approved: i64,
}

impl RiskEvent {
    pub fn new(bar: i64, action: Action, reason: Reason, requested: i64, approved: i64) -> Self {
        RiskEvent {
            bar,
            action: action as i64,
            reason: reason as i64,
            requested,
            approved,
        }
    }
}

/// The scalar type of a record field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    I64,
    F64,
}

/// A record's field: its name, type and byte offset (a NumPy dtype entry).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub kind: FieldKind,
    pub offset: usize,
}

/// Scalar types a record field may have.
pub trait Scalar {
    const KIND: FieldKind;
}
impl Scalar for i64 {
    const KIND: FieldKind = FieldKind::I64;
}
impl Scalar for f64 {
    const KIND: FieldKind = FieldKind::F64;
}

/// The kind of the field that `get` reads (the type is inferred from the struct).
fn kind_of<R, T: Scalar>(_get: fn(&R) -> &T) -> FieldKind {
    T::KIND
}

/// `[Field]` for the named fields of a `#[repr(C)]` struct: names, types and offsets all
/// taken from the struct, so the NumPy dtype cannot drift from it.
macro_rules! fields {
    ($ty:ident { $($f:ident),* $(,)? }) => {
        vec![$(Field {
            name: stringify!($f),
            kind: kind_of::<$ty, _>(|r| &r.$f),
            offset: std::mem::offset_of!($ty, $f),
        }),*]
    };
}

impl Trade {
    /// The fields, in memory order.
    pub fn fields() -> Vec<Field> {
        fields!(Trade {
            entry_bar,
            exit_bar,
            side,
            contracts,
            entry_px,
            exit_px,
            gross_pnl,
            commission,
            slippage_cost,
            net_pnl,
            exit_reason,
            exit_at_close,
        })
    }
}

impl RiskEvent {
    /// The fields, in memory order.
    pub fn fields() -> Vec<Field> {
        fields!(RiskEvent {
            bar,
            action,
            reason,
            requested,
            approved
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every byte of the struct belongs to a listed field, in order (8-byte scalars).
    fn assert_covers(fields: &[Field], size: usize) {
        for (k, f) in fields.iter().enumerate() {
            assert_eq!(f.offset, 8 * k, "{}", f.name);
        }
        assert_eq!(fields.len() * 8, size);
    }

    #[test]
    fn the_field_lists_cover_the_records() {
        assert_covers(&Trade::fields(), std::mem::size_of::<Trade>());
        assert_covers(&RiskEvent::fields(), std::mem::size_of::<RiskEvent>());
        let t = Trade::fields();
        assert_eq!(t[6].name, "gross_pnl");
        assert_eq!(t[6].kind, FieldKind::F64);
        assert_eq!(t[10].kind, FieldKind::I64);
    }
}
