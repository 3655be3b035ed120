//! The canonical encoding behind the trace digest: any `serde::Serialize`
//! value as bytes that depend only on the value, never on the platform,
//! the Rust release or a crate's wire format.
//!
//! The rules are ours and fixed: integers are fixed-width little-endian
//! (`usize` as 8 bytes), `bool` one byte, `char` its code point as 4 bytes,
//! floats their IEEE-754 bits with every NaN folded into one, strings and
//! byte strings a `u64` length then the bytes, `None` a 0 byte and `Some`
//! a 1 byte then the value, sequences and maps a `u64` length then their
//! items, enum variants their index as a `u32`, and structs and tuples
//! their fields in order with no names. Changing any rule changes every
//! digest; the pinned digest in `tests/determinism.rs` says so.

use serde::ser::{self, Serialize};

/// Appends the canonical encoding of `value` to `out`.
pub fn encode<T: Serialize + ?Sized>(value: &T, out: &mut Vec<u8>) {
    value
        .serialize(&mut Encoder { out })
        .expect("the canonical encoder accepts every serde value");
}

/// Never produced by the encoder itself; a `Serialize` impl may still
/// return a custom error, which `encode` turns into a panic (a bug in
/// that impl).
#[derive(Debug)]
pub struct EncodeError(String);

impl std::fmt::Display for EncodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EncodeError {}

impl ser::Error for EncodeError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        EncodeError(msg.to_string())
    }
}

struct Encoder<'a> {
    out: &'a mut Vec<u8>,
}

impl Encoder<'_> {
    fn length(&mut self, len: usize) {
        self.out.extend_from_slice(&(len as u64).to_le_bytes());
    }
    fn variant(&mut self, index: u32) {
        self.out.extend_from_slice(&index.to_le_bytes());
    }
}

/// A sequence or map whose length serde did not know up front: its items
/// are written after a placeholder, which is patched once they are done.
struct Compound<'e, 'a> {
    encoder: &'e mut Encoder<'a>,
    /// Where the length placeholder sits, and how many items so far.
    patch: Option<(usize, u64)>,
}

impl Compound<'_, '_> {
    fn item(&mut self) {
        if let Some((_, count)) = &mut self.patch {
            *count += 1;
        }
    }
    fn finish(self) {
        if let Some((at, count)) = self.patch {
            self.encoder.out[at..at + 8].copy_from_slice(&count.to_le_bytes());
        }
    }
}

type Result = std::result::Result<(), EncodeError>;

macro_rules! fixed_width {
    ($($method:ident: $ty:ty),*) => {
        $(#[inline]
        fn $method(self, v: $ty) -> Result {
            self.out.extend_from_slice(&v.to_le_bytes());
            Ok(())
        })*
    };
}

impl<'e, 'a> ser::Serializer for &'e mut Encoder<'a> {
    type Ok = ();
    type Error = EncodeError;
    type SerializeSeq = Compound<'e, 'a>;
    type SerializeTuple = Compound<'e, 'a>;
    type SerializeTupleStruct = Compound<'e, 'a>;
    type SerializeTupleVariant = Compound<'e, 'a>;
    type SerializeMap = Compound<'e, 'a>;
    type SerializeStruct = Compound<'e, 'a>;
    type SerializeStructVariant = Compound<'e, 'a>;

    fixed_width!(
        serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64,
        serialize_i128: i128, serialize_u8: u8, serialize_u16: u16, serialize_u32: u32,
        serialize_u64: u64, serialize_u128: u128
    );

    #[inline]
    fn serialize_bool(self, v: bool) -> Result {
        self.out.push(u8::from(v));
        Ok(())
    }
    #[inline]
    fn serialize_f32(self, v: f32) -> Result {
        self.serialize_f64(f64::from(v))
    }
    #[inline]
    fn serialize_f64(self, v: f64) -> Result {
        let bits = if v.is_nan() {
            f64::NAN.to_bits()
        } else {
            v.to_bits()
        };
        self.out.extend_from_slice(&bits.to_le_bytes());
        Ok(())
    }
    #[inline]
    fn serialize_char(self, v: char) -> Result {
        self.serialize_u32(u32::from(v))
    }
    #[inline]
    fn serialize_str(self, v: &str) -> Result {
        self.serialize_bytes(v.as_bytes())
    }
    #[inline]
    fn serialize_bytes(self, v: &[u8]) -> Result {
        self.length(v.len());
        self.out.extend_from_slice(v);
        Ok(())
    }
    #[inline]
    fn serialize_none(self) -> Result {
        self.out.push(0);
        Ok(())
    }
    #[inline]
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result {
        self.out.push(1);
        value.serialize(self)
    }
    #[inline]
    fn serialize_unit(self) -> Result {
        Ok(())
    }
    #[inline]
    fn serialize_unit_struct(self, _name: &'static str) -> Result {
        Ok(())
    }
    #[inline]
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        index: u32,
        _variant: &'static str,
    ) -> Result {
        self.variant(index);
        Ok(())
    }
    #[inline]
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result {
        value.serialize(self)
    }
    #[inline]
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        index: u32,
        _variant: &'static str,
        value: &T,
    ) -> Result {
        self.variant(index);
        value.serialize(self)
    }
    #[inline]
    fn serialize_seq(
        self,
        len: Option<usize>,
    ) -> std::result::Result<Self::SerializeSeq, EncodeError> {
        Ok(self.counted(len))
    }
    #[inline]
    fn serialize_tuple(
        self,
        _len: usize,
    ) -> std::result::Result<Self::SerializeTuple, EncodeError> {
        Ok(self.fields())
    }
    #[inline]
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> std::result::Result<Self::SerializeTupleStruct, EncodeError> {
        Ok(self.fields())
    }
    #[inline]
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> std::result::Result<Self::SerializeTupleVariant, EncodeError> {
        self.variant(index);
        Ok(self.fields())
    }
    #[inline]
    fn serialize_map(
        self,
        len: Option<usize>,
    ) -> std::result::Result<Self::SerializeMap, EncodeError> {
        Ok(self.counted(len))
    }
    #[inline]
    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> std::result::Result<Self::SerializeStruct, EncodeError> {
        Ok(self.fields())
    }
    #[inline]
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> std::result::Result<Self::SerializeStructVariant, EncodeError> {
        self.variant(index);
        Ok(self.fields())
    }
    #[inline]
    fn is_human_readable(&self) -> bool {
        false
    }
}

impl<'e, 'a> Encoder<'a> {
    /// A sequence or map: its length first, patched in later if unknown.
    fn counted(&'e mut self, len: Option<usize>) -> Compound<'e, 'a> {
        let patch = match len {
            Some(len) => {
                self.length(len);
                None
            }
            None => {
                let at = self.out.len();
                self.length(0);
                Some((at, 0))
            }
        };
        Compound {
            encoder: self,
            patch,
        }
    }
    /// A struct or tuple: its fields in order, no length.
    fn fields(&'e mut self) -> Compound<'e, 'a> {
        Compound {
            encoder: self,
            patch: None,
        }
    }
}

macro_rules! compound {
    ($trait:ident, $method:ident) => {
        impl ser::$trait for Compound<'_, '_> {
            type Ok = ();
            type Error = EncodeError;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
                self.item();
                value.serialize(&mut *self.encoder)
            }
            fn end(self) -> Result {
                self.finish();
                Ok(())
            }
        }
    };
}

compound!(SerializeSeq, serialize_element);
compound!(SerializeTuple, serialize_element);
compound!(SerializeTupleStruct, serialize_field);
compound!(SerializeTupleVariant, serialize_field);

impl ser::SerializeMap for Compound<'_, '_> {
    type Ok = ();
    type Error = EncodeError;
    #[inline]
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result {
        self.item();
        key.serialize(&mut *self.encoder)
    }
    #[inline]
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        value.serialize(&mut *self.encoder)
    }
    #[inline]
    fn end(self) -> Result {
        self.finish();
        Ok(())
    }
}

/// Struct fields are written in order, without their names.
macro_rules! fields {
    ($trait:ident) => {
        impl ser::$trait for Compound<'_, '_> {
            type Ok = ();
            type Error = EncodeError;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                _key: &'static str,
                value: &T,
            ) -> Result {
                value.serialize(&mut *self.encoder)
            }
            fn end(self) -> Result {
                Ok(())
            }
        }
    };
}

fields!(SerializeStruct);
fields!(SerializeStructVariant);

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes<T: Serialize>(value: &T) -> Vec<u8> {
        let mut out = Vec::new();
        encode(value, &mut out);
        out
    }

    #[derive(serde::Serialize)]
    enum Shape {
        Dot,
        Line(u16, u16),
        Named { id: u8, tag: Option<bool> },
    }

    #[test]
    fn the_encoding_follows_its_rules() {
        assert_eq!(bytes(&7u32), [7, 0, 0, 0]);
        assert_eq!(bytes(&-1i16), [0xff, 0xff]);
        assert_eq!(bytes(&3usize), [3, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(bytes(&"ab"), [2, 0, 0, 0, 0, 0, 0, 0, b'a', b'b']);
        assert_eq!(bytes(&Some(true)), [1, 1]);
        assert_eq!(bytes(&None::<u8>), [0]);
        assert_eq!(bytes(&Shape::Dot), [0, 0, 0, 0]);
        assert_eq!(bytes(&Shape::Line(1, 2)), [1, 0, 0, 0, 1, 0, 2, 0]);
        assert_eq!(
            bytes(&Shape::Named { id: 9, tag: None }),
            [2, 0, 0, 0, 9, 0]
        );
        assert_eq!(bytes(&vec![5u8, 6]), [2, 0, 0, 0, 0, 0, 0, 0, 5, 6]);
        assert_eq!(bytes(&f64::NAN), bytes(&-f64::NAN));
    }

    #[test]
    fn a_sequence_of_unknown_length_gets_its_length_patched_in() {
        struct Unsized(Vec<u8>);
        impl Serialize for Unsized {
            fn serialize<S: ser::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                use ser::SerializeSeq;
                let mut seq = s.serialize_seq(None)?;
                for b in &self.0 {
                    seq.serialize_element(b)?;
                }
                seq.end()
            }
        }
        assert_eq!(bytes(&Unsized(vec![5, 6])), bytes(&vec![5u8, 6]));
    }
}
