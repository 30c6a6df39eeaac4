//! LineCompress hardware designs.
