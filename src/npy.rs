//! NumPy `.npy` output: a 2-D little-endian f32 array, rows in passage
//! order, readable with `numpy.load` and by most numeric tools.

use std::io::{self, Write};

/// Writes `rows × dim` floats as a version 1.0 `.npy` file.
pub fn write_f32_matrix(out: &mut dyn Write, rows: &[Vec<f32>], dim: usize) -> io::Result<()> {
    let header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({}, {}), }}", rows.len(), dim);
    // Magic (6) + version (2) + length (2) + header + newline, padded to 64.
    let unpadded = 10 + header.len() + 1;
    let padding = (64 - unpadded % 64) % 64;
    out.write_all(b"\x93NUMPY\x01\x00")?;
    out.write_all(&((header.len() + padding + 1) as u16).to_le_bytes())?;
    out.write_all(header.as_bytes())?;
    out.write_all(&vec![b' '; padding])?;
    out.write_all(b"\n")?;
    let mut buf = Vec::with_capacity(dim * 4);
    for row in rows {
        if row.len() != dim {
            return Err(io::Error::new(io::ErrorKind::InvalidData, format!("row of {} values, expected {dim}", row.len())));
        }
        buf.clear();
        for x in row {
            buf.extend_from_slice(&x.to_le_bytes());
        }
        out.write_all(&buf)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_aligned_and_data_follows() {
        let mut out = Vec::new();
        write_f32_matrix(&mut out, &[vec![1.0, 2.0], vec![3.0, 4.0], vec![5.0, 6.0]], 2).unwrap();
        assert_eq!(&out[..6], b"\x93NUMPY");
        let header_len = u16::from_le_bytes([out[8], out[9]]) as usize;
        assert_eq!((10 + header_len) % 64, 0);
        let header = std::str::from_utf8(&out[10..10 + header_len]).unwrap();
        assert!(header.contains("'shape': (3, 2)"));
        assert!(header.ends_with('\n'));
        assert_eq!(out.len(), 10 + header_len + 3 * 2 * 4);
        assert_eq!(&out[10 + header_len..10 + header_len + 4], &1.0f32.to_le_bytes());
    }
}
