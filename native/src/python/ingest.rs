//! `read_dbn` and `dbn_symbol_codes`: the DBN side of `workbench data ingest`
//! (see `crate::ingest`).

use numpy::{IntoPyArray, PyArray1, PyArray2, PyReadonlyArray1};
use pyo3::create_exception;
use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;

use crate::ingest::bars::bar_columns;
use crate::ingest::{read_dbn_file, symbol_codes, IngestError, Interval};

create_exception!(
    _native,
    DbnTruncatedError,
    PyValueError,
    "The DBN data is cut short (in its metadata, a record or the zstd stream) or corrupt."
);
create_exception!(
    _native,
    DbnMixedError,
    PyValueError,
    "The DBN file holds records of different lengths (mixed record types)."
);

/// Read a DBN file (plain or zstd) whole and check every record with the ``dbn`` crate.
///
/// Returns ``(data, records_start, record_len, count)``: the plain DBN bytes (metadata,
/// then the records exactly as the file holds them, no version upgrade), where the records
/// start, the length of each and their number. The GIL is released while reading.
#[pyfunction]
fn read_dbn<'py>(
    py: Python<'py>,
    path: &str,
) -> PyResult<(Bound<'py, PyArray1<u8>>, usize, usize, usize)> {
    let file = py
        .detach(|| read_dbn_file(std::path::Path::new(path)))
        .map_err(|e| match e {
            IngestError::Read(_) => PyOSError::new_err(e.to_string()),
            IngestError::Truncated(..)
            | IngestError::Decompress(_)
            | IngestError::MetadataCut(..) => DbnTruncatedError::new_err(e.to_string()),
            IngestError::Mixed(..) => DbnMixedError::new_err(e.to_string()),
            _ => PyValueError::new_err(e.to_string()),
        })?;
    let (start, len, count) = (file.records_start, file.record_len, file.count);
    Ok((file.bytes.into_pyarray(py), start, len, count))
}

/// Raw symbol of each record as ``(codes, names)`` from the metadata's symbology.
///
/// ``records`` is the records region of :func:`read_dbn`'s bytes, ``mappings`` lists per
/// instrument id its intervals ``(start_day, end_day, symbol)`` (days since the UNIX epoch,
/// end excluded) in metadata order. ``names[0]`` is ``""`` (unknown); no records, no names.
#[pyfunction]
fn dbn_symbol_codes<'py>(
    py: Python<'py>,
    records: PyReadonlyArray1<'py, u8>,
    record_len: usize,
    mappings: Vec<(u32, Vec<Interval>)>,
) -> PyResult<(Bound<'py, PyArray1<i32>>, Vec<String>)> {
    let bytes = records.as_slice().map_err(|_| {
        PyValueError::new_err("dbn_symbol_codes: records must be a contiguous uint8 array")
    })?;
    if record_len < 16 && !bytes.is_empty() {
        return Err(PyValueError::new_err(format!(
            "dbn_symbol_codes: record_len {record_len} is shorter than a record header"
        )));
    }
    let (codes, names) = py.detach(|| symbol_codes(bytes, record_len, &mappings));
    Ok((codes.into_pyarray(py), names))
}

/// The columns ``dbn_bar_columns`` returns: ``ts_event``, ``instrument_id``, symbol codes,
/// ``open``, ``high``, ``low``, ``close``, ``volume``, and the partitions.
type BarArrays<'py> = (
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<u32>>,
    Bound<'py, PyArray1<i32>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray2<i64>>,
);

/// OHLCV records as the catalog's columns, grouped by partition (product, UTC day).
///
/// ``records`` is the records region of :func:`read_dbn`'s bytes (or any whole OHLCV
/// records), ``sym_codes`` and ``prod_codes`` one code per record; a product code outside
/// ``0..n_products`` drops the record. Rows come by product, each product's records in file
/// order stably sorted by ``ts_event``; prices are divided by 1e9. The last array holds one
/// row ``(product, day, start, end)`` per partition (``day`` in days since the epoch, rows
/// ``start:end``). The GIL is released while splitting.
#[pyfunction]
fn dbn_bar_columns<'py>(
    py: Python<'py>,
    records: PyReadonlyArray1<'py, u8>,
    record_len: usize,
    sym_codes: PyReadonlyArray1<'py, i32>,
    prod_codes: PyReadonlyArray1<'py, i32>,
    n_products: usize,
) -> PyResult<BarArrays<'py>> {
    let contiguous = |_| PyValueError::new_err("dbn_bar_columns: arrays must be contiguous");
    let bytes = records.as_slice().map_err(contiguous)?;
    let syms = sym_codes.as_slice().map_err(contiguous)?;
    let prods = prod_codes.as_slice().map_err(contiguous)?;
    let cols = py
        .detach(|| bar_columns(bytes, record_len, syms, prods, n_products))
        .map_err(|e| PyValueError::new_err(format!("dbn_bar_columns: {e}")))?;
    let parts: Vec<i64> = cols
        .partitions
        .iter()
        .flat_map(|p| [i64::from(p.product), p.day, p.start as i64, p.end as i64])
        .collect();
    let parts = numpy::ndarray::Array2::from_shape_vec((cols.partitions.len(), 4), parts)
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok((
        cols.ts_event.into_pyarray(py),
        cols.instrument_id.into_pyarray(py),
        cols.symbol.into_pyarray(py),
        cols.open.into_pyarray(py),
        cols.high.into_pyarray(py),
        cols.low.into_pyarray(py),
        cols.close.into_pyarray(py),
        cols.volume.into_pyarray(py),
        parts.into_pyarray(py),
    ))
}

/// Add this domain's names to the module.
pub(super) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("DbnTruncatedError", py.get_type::<DbnTruncatedError>())?;
    m.add("DbnMixedError", py.get_type::<DbnMixedError>())?;
    m.add_function(wrap_pyfunction!(read_dbn, m)?)?;
    m.add_function(wrap_pyfunction!(dbn_symbol_codes, m)?)?;
    m.add_function(wrap_pyfunction!(dbn_bar_columns, m)?)?;
    Ok(())
}
