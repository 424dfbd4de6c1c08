//! OHLCV records split into the catalog's partitions (product, UTC day) in one pass, as the
//! columns `workbench.data.ingest` hands to pyarrow: no per-record Python work.
//!
//! The columns and their order are those `workbench.data.dbn.to_arrow` builds and
//! `write_decoded` slices: records of a product in file order, stably sorted by `ts_event`
//! when the file is not, products in code order; prices are the fixed-point integers
//! divided by 1e9 as `f64` (the same operation as NumPy's `astype(float64) / 1e9`).

/// Nanoseconds per day.
const NS_PER_DAY: i64 = 86_400_000_000_000;
/// Fixed-point price scale (1 unit = 1e-9).
const PRICE_SCALE: f64 = 1e9;
/// Length of an OHLCV record (header + open, high, low, close, volume), DBN v1-v3.
pub const OHLCV_LEN: usize = 56;

/// Why records could not be split into bar columns.
#[derive(Debug, thiserror::Error)]
pub enum BarsError {
    /// The record length is not an OHLCV record's.
    #[error("record length {0} is not an OHLCV record's ({OHLCV_LEN} bytes)")]
    RecordLen(usize),
    /// The records region is not a whole number of records.
    #[error("{0} bytes of records are not a whole number of {1}-byte records")]
    Ragged(usize, usize),
    /// One code per record is needed.
    #[error("{0} records but {1} symbol codes and {2} product codes")]
    Codes(usize, usize, usize),
}

/// One stored file's rows: `rows[start..end]` of [`BarColumns`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BarPartition {
    /// Product code (index into the caller's product names).
    pub product: i32,
    /// UTC day, days since the UNIX epoch.
    pub day: i64,
    /// First row.
    pub start: usize,
    /// One past the last row.
    pub end: usize,
}

/// The catalog columns of OHLCV records, grouped by partition (see the module docs).
#[derive(Debug, Clone, Default)]
pub struct BarColumns {
    /// `ts_event`, UTC ns.
    pub ts_event: Vec<i64>,
    /// `instrument_id`.
    pub instrument_id: Vec<u32>,
    /// Raw symbol code per row.
    pub symbol: Vec<i32>,
    /// Open price.
    pub open: Vec<f64>,
    /// High price.
    pub high: Vec<f64>,
    /// Low price.
    pub low: Vec<f64>,
    /// Close price.
    pub close: Vec<f64>,
    /// Volume.
    pub volume: Vec<i64>,
    /// Partitions in row order.
    pub partitions: Vec<BarPartition>,
}

fn u32_at(r: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([r[at], r[at + 1], r[at + 2], r[at + 3]])
}

fn i64_at(r: &[u8], at: usize) -> i64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&r[at..at + 8]);
    i64::from_le_bytes(b)
}

/// Splits OHLCV `records` (each `record_len` bytes) into partition-ordered columns.
///
/// `sym_codes` and `prod_codes` hold one code per record; a product code outside
/// `0..n_products` drops the record.
///
/// # Errors
/// [`BarsError`] when the record length is not an OHLCV record's, the records are not
/// whole, or the codes do not match the records.
pub fn bar_columns(
    records: &[u8],
    record_len: usize,
    sym_codes: &[i32],
    prod_codes: &[i32],
    n_products: usize,
) -> Result<BarColumns, BarsError> {
    if records.is_empty() {
        return Ok(BarColumns::default());
    }
    if record_len != OHLCV_LEN {
        return Err(BarsError::RecordLen(record_len));
    }
    if !records.len().is_multiple_of(record_len) {
        return Err(BarsError::Ragged(records.len(), record_len));
    }
    let n = records.len() / record_len;
    if sym_codes.len() != n || prod_codes.len() != n {
        return Err(BarsError::Codes(n, sym_codes.len(), prod_codes.len()));
    }
    let ts_of = |i: usize| i64_at(&records[i * record_len..], 8);
    // Row indices per product in file order, each stably sorted by ts_event when needed.
    let mut order: Vec<Vec<usize>> = vec![Vec::new(); n_products];
    for (i, &p) in prod_codes.iter().enumerate() {
        if p >= 0 && (p as usize) < n_products {
            order[p as usize].push(i);
        }
    }
    for idx in &mut order {
        if idx.windows(2).any(|w| ts_of(w[1]) < ts_of(w[0])) {
            idx.sort_by_key(|&i| ts_of(i));
        }
    }
    let rows: usize = order.iter().map(Vec::len).sum();
    let mut out = BarColumns {
        ts_event: Vec::with_capacity(rows),
        instrument_id: Vec::with_capacity(rows),
        symbol: Vec::with_capacity(rows),
        open: Vec::with_capacity(rows),
        high: Vec::with_capacity(rows),
        low: Vec::with_capacity(rows),
        close: Vec::with_capacity(rows),
        volume: Vec::with_capacity(rows),
        partitions: Vec::new(),
    };
    for (p, idx) in order.iter().enumerate() {
        let mut current: Option<BarPartition> = None;
        for &i in idx {
            let r = &records[i * record_len..(i + 1) * record_len];
            let ts = i64_at(r, 8);
            let day = ts.div_euclid(NS_PER_DAY);
            let row = out.ts_event.len();
            match &mut current {
                Some(part) if part.day == day => part.end = row + 1,
                _ => {
                    out.partitions.extend(current.take());
                    current = Some(BarPartition {
                        product: p as i32,
                        day,
                        start: row,
                        end: row + 1,
                    });
                }
            }
            out.ts_event.push(ts);
            out.instrument_id.push(u32_at(r, 4));
            out.symbol.push(sym_codes[i]);
            out.open.push(i64_at(r, 16) as f64 / PRICE_SCALE);
            out.high.push(i64_at(r, 24) as f64 / PRICE_SCALE);
            out.low.push(i64_at(r, 32) as f64 / PRICE_SCALE);
            out.close.push(i64_at(r, 40) as f64 / PRICE_SCALE);
            out.volume.push(i64_at(r, 48));
        }
        out.partitions.extend(current);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = NS_PER_DAY;

    fn rec(iid: u32, ts: i64, close: i64) -> Vec<u8> {
        let mut r = vec![0u8; OHLCV_LEN];
        r[0] = (OHLCV_LEN / 4) as u8;
        r[4..8].copy_from_slice(&iid.to_le_bytes());
        r[8..16].copy_from_slice(&ts.to_le_bytes());
        for at in [16, 24, 32, 40] {
            r[at..at + 8].copy_from_slice(&close.to_le_bytes());
        }
        r[48..56].copy_from_slice(&7u64.to_le_bytes());
        r
    }

    #[test]
    fn products_then_days_with_an_unsorted_product_sorted_stably() {
        let recs = [
            rec(1, DAY + 5, 1_500_000_000), // product 0, day 1
            rec(2, 3, 2_000_000_000),       // product 1, day 0
            rec(1, 10, 250_000_000),        // product 0, day 0: out of order
            rec(3, 4, 1),                   // dropped
            rec(1, DAY + 5, 3),             // product 0, day 1, same ts: stays after
        ]
        .concat();
        let cols = bar_columns(&recs, OHLCV_LEN, &[1, 2, 1, 0, 1], &[0, 1, 0, -1, 0], 2).unwrap();
        assert_eq!(cols.ts_event, vec![10, DAY + 5, DAY + 5, 3]);
        assert_eq!(cols.close, vec![0.25, 1.5, 3e-9, 2.0]);
        assert_eq!(cols.volume, vec![7; 4]);
        assert_eq!(cols.instrument_id, vec![1, 1, 1, 2]);
        let parts: Vec<_> = cols
            .partitions
            .iter()
            .map(|p| (p.product, p.day, p.start, p.end))
            .collect();
        assert_eq!(parts, vec![(0, 0, 0, 1), (0, 1, 1, 3), (1, 0, 3, 4)]);
    }

    #[test]
    fn refuses_what_is_not_whole_ohlcv_records() {
        let r = rec(1, 0, 0);
        assert!(matches!(
            bar_columns(&r, 48, &[0], &[0], 1),
            Err(BarsError::RecordLen(48))
        ));
        assert!(matches!(
            bar_columns(&r[..40], OHLCV_LEN, &[0], &[0], 1),
            Err(BarsError::Ragged(40, OHLCV_LEN))
        ));
        assert!(matches!(
            bar_columns(&r, OHLCV_LEN, &[], &[0], 1),
            Err(BarsError::Codes(1, 0, 1))
        ));
    }
}
