//! `read_dbn` and `dbn_symbol_codes`: the DBN side of `workbench data ingest`
//! (see `crate::ingest`).

use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::create_exception;
use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;

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

/// Add this domain's names to the module.
pub(super) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("DbnTruncatedError", py.get_type::<DbnTruncatedError>())?;
    m.add("DbnMixedError", py.get_type::<DbnMixedError>())?;
    m.add_function(wrap_pyfunction!(read_dbn, m)?)?;
    m.add_function(wrap_pyfunction!(dbn_symbol_codes, m)?)?;
    Ok(())
}
