//! A model → bound SQL values, straight from its `Serialize` impl.
//!
//! Each top-level field of the struct becomes the value of the column of the same name: no
//! intermediate `serde_json::Value` (an owned map with every key and value allocated, then looked
//! up column by column), which was about a fifth of a backfill's range write. The mapping is the
//! one of the `Value` route it replaces, case by case:
//! - a column the struct does not serialize, `None`, `()` → NULL;
//! - integers → INTEGER when they fit `i64`, else [`StoreError::OutOfRange`] (floats too);
//! - `bool` → 0/1 in a `Bool` column, `"true"`/`"false"` text elsewhere;
//! - strings, chars, unit variants → TEXT;
//! - a `Json` column, or any nested value (sequence, map, struct, newtype variant) → its JSON text
//!   (`null` → NULL);
//! - fields without a column are ignored.

use std::fmt;

use serde::Serialize;
use serde::ser::{self, Impossible, SerializeStruct};

use super::{Bool, Json, Table};
use crate::{Result, StoreError, out_of_range};

/// One bound value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Bind {
    Null,
    Int(i64),
    Text(String),
}

/// Appends the values of `item`'s columns of `t`, in column order, to `out`.
pub(super) fn to_binds<T: Serialize>(t: &Table, item: &T, out: &mut Vec<Bind>) -> Result<()> {
    let mut row = Row {
        t,
        vals: vec![None; t.cols.len()],
        bad: None,
    };
    item.serialize(&mut row).map_err(|e| match e {
        Error::Custom(m) => StoreError::Invalid(format!("{}: {m}", t.name)),
        Error::Nested | Error::OutOfRange => {
            StoreError::Invalid(format!("{}: a row is a struct", t.name))
        }
    })?;
    if let Some(col) = row.bad {
        let id = match row.vals.first() {
            Some(Some(Bind::Text(s))) => s.clone(),
            Some(Some(Bind::Int(i))) => i.to_string(),
            _ => "?".to_owned(),
        };
        return Err(out_of_range(t.name, &id, col));
    }
    out.extend(row.vals.into_iter().map(|v| v.unwrap_or(Bind::Null)));
    Ok(())
}

#[derive(Debug)]
enum Error {
    /// Not a scalar: the caller writes the value's JSON text.
    Nested,
    /// An integer outside `i64`, or a float.
    OutOfRange,
    Custom(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Nested => f.write_str("not a scalar"),
            Error::OutOfRange => f.write_str("integer out of range"),
            Error::Custom(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error::Custom(msg.to_string())
    }
}

type R<T> = std::result::Result<T, Error>;

/// The row being built: a value per column once its field was seen.
struct Row<'a> {
    t: &'a Table,
    vals: Vec<Option<Bind>>,
    /// The first column whose integer did not fit.
    bad: Option<&'static str>,
}

impl SerializeStruct for &mut Row<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: ?Sized + Serialize>(&mut self, key: &'static str, value: &T) -> R<()> {
        let Some(i) = self.t.cols.iter().position(|(c, _)| *c == key) else {
            return Ok(());
        };
        let (col, kind) = self.t.cols[i];
        let json = |value: &T| -> R<Bind> {
            let s = serde_json::to_string(value).map_err(|e| Error::Custom(e.to_string()))?;
            Ok(if s == "null" {
                Bind::Null
            } else {
                Bind::Text(s)
            })
        };
        let b = if kind == Json {
            json(value)?
        } else {
            match value.serialize(Scalar {
                bool_col: kind == Bool,
            }) {
                Ok(b) => b,
                Err(Error::Nested) => json(value)?,
                Err(Error::OutOfRange) => {
                    self.bad.get_or_insert(col);
                    Bind::Null
                }
                Err(e) => return Err(e),
            }
        };
        self.vals[i] = Some(b);
        Ok(())
    }

    fn end(self) -> R<()> {
        Ok(())
    }
}

/// The methods of a value that is not a scalar (both serializers refuse them: [`Error::Nested`]).
macro_rules! not_a_scalar {
    ($ok:ty) => {
        fn serialize_bytes(self, _: &[u8]) -> R<$ok> {
            Err(Error::Nested)
        }
        fn serialize_newtype_variant<T: ?Sized + Serialize>(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: &T,
        ) -> R<$ok> {
            Err(Error::Nested)
        }
        fn serialize_seq(self, _: Option<usize>) -> R<Self::SerializeSeq> {
            Err(Error::Nested)
        }
        fn serialize_tuple(self, _: usize) -> R<Self::SerializeTuple> {
            Err(Error::Nested)
        }
        fn serialize_tuple_struct(
            self,
            _: &'static str,
            _: usize,
        ) -> R<Self::SerializeTupleStruct> {
            Err(Error::Nested)
        }
        fn serialize_tuple_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> R<Self::SerializeTupleVariant> {
            Err(Error::Nested)
        }
        fn serialize_map(self, _: Option<usize>) -> R<Self::SerializeMap> {
            Err(Error::Nested)
        }
        fn serialize_struct_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> R<Self::SerializeStructVariant> {
            Err(Error::Nested)
        }
    };
}

/// Methods of a row's serializer for a value that is not a struct: [`Error::Nested`].
macro_rules! refuse_scalars {
    ($($name:ident($($arg:ty),*)),* $(,)?) => {
        $(fn $name(self, $(_: $arg),*) -> R<()> {
            Err(Error::Nested)
        })*
    };
}

/// Only a struct is a row.
impl<'a, 'b> ser::Serializer for &'a mut Row<'b> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Impossible<(), Error>;
    type SerializeTuple = Impossible<(), Error>;
    type SerializeTupleStruct = Impossible<(), Error>;
    type SerializeTupleVariant = Impossible<(), Error>;
    type SerializeMap = Impossible<(), Error>;
    type SerializeStruct = Self;
    type SerializeStructVariant = Impossible<(), Error>;

    not_a_scalar!(());

    fn serialize_struct(self, _: &'static str, _: usize) -> R<Self> {
        Ok(self)
    }
    refuse_scalars! {
        serialize_bool(bool), serialize_i8(i8), serialize_i16(i16), serialize_i32(i32),
        serialize_i64(i64), serialize_u8(u8), serialize_u16(u16), serialize_u32(u32),
        serialize_u64(u64), serialize_f32(f32), serialize_f64(f64), serialize_char(char),
        serialize_str(&str), serialize_none(),
    }
    fn serialize_some<T: ?Sized + Serialize>(self, _: &T) -> R<()> {
        Err(Error::Nested)
    }
    refuse_scalars! {
        serialize_unit(), serialize_unit_struct(&'static str),
        serialize_unit_variant(&'static str, u32, &'static str),
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(self, _: &'static str, v: &T) -> R<()> {
        v.serialize(self)
    }
}

/// A field's value when it is a scalar; [`Error::Nested`] otherwise.
#[derive(Clone, Copy)]
struct Scalar {
    bool_col: bool,
}

fn int<N: TryInto<i64>>(n: N) -> R<Bind> {
    n.try_into().map(Bind::Int).map_err(|_| Error::OutOfRange)
}

/// The integer methods of [`Scalar`]: INTEGER when the value fits `i64`.
macro_rules! integers {
    ($($name:ident($t:ty)),* $(,)?) => {
        $(fn $name(self, v: $t) -> R<Bind> {
            int(v)
        })*
    };
}

impl ser::Serializer for Scalar {
    type Ok = Bind;
    type Error = Error;
    type SerializeSeq = Impossible<Bind, Error>;
    type SerializeTuple = Impossible<Bind, Error>;
    type SerializeTupleStruct = Impossible<Bind, Error>;
    type SerializeTupleVariant = Impossible<Bind, Error>;
    type SerializeMap = Impossible<Bind, Error>;
    type SerializeStruct = Impossible<Bind, Error>;
    type SerializeStructVariant = Impossible<Bind, Error>;

    not_a_scalar!(Bind);

    fn serialize_bool(self, v: bool) -> R<Bind> {
        Ok(if self.bool_col {
            Bind::Int(i64::from(v))
        } else {
            Bind::Text(v.to_string())
        })
    }
    integers! {
        serialize_i8(i8), serialize_i16(i16), serialize_i32(i32), serialize_i64(i64),
        serialize_i128(i128), serialize_u8(u8), serialize_u16(u16), serialize_u32(u32),
        serialize_u64(u64), serialize_u128(u128),
    }
    fn serialize_f32(self, v: f32) -> R<Bind> {
        self.serialize_f64(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> R<Bind> {
        // serde_json writes a non-finite float as null; any other float was out of range
        if v.is_finite() {
            Err(Error::OutOfRange)
        } else {
            Ok(Bind::Null)
        }
    }
    fn serialize_char(self, v: char) -> R<Bind> {
        Ok(Bind::Text(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> R<Bind> {
        Ok(Bind::Text(v.to_owned()))
    }
    fn serialize_none(self) -> R<Bind> {
        Ok(Bind::Null)
    }
    fn serialize_some<T: ?Sized + Serialize>(self, v: &T) -> R<Bind> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> R<Bind> {
        Ok(Bind::Null)
    }
    fn serialize_unit_struct(self, _: &'static str) -> R<Bind> {
        Ok(Bind::Null)
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> R<Bind> {
        Ok(Bind::Text(variant.to_owned()))
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(self, _: &'static str, v: &T) -> R<Bind> {
        v.serialize(self)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> R<Self::SerializeStruct> {
        Err(Error::Nested)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::sqlite::Kind::{Int, Text};
    use serde_json::json;

    const T: Table = Table {
        name: "t",
        cols: &[
            ("_id", Text),
            ("n", Int),
            ("flag", Bool),
            ("word", Text),
            ("args", Json),
            ("nested", Text),
            ("missing", Int),
            ("opt", Int),
            ("variant", Text),
        ],
    };

    #[derive(Serialize)]
    enum V {
        Up,
    }

    #[derive(Serialize)]
    struct Item {
        #[serde(rename = "_id")]
        id: String,
        n: u64,
        flag: bool,
        word: bool,
        args: serde_json::Value,
        nested: Vec<u32>,
        opt: Option<u32>,
        variant: V,
        extra: String,
    }

    fn item() -> Item {
        Item {
            id: "a:1".into(),
            n: 7,
            flag: true,
            word: false,
            args: json!({"k": [1, "x"]}),
            nested: vec![1, 2],
            opt: None,
            variant: V::Up,
            extra: "not a column".into(),
        }
    }

    #[test]
    fn every_field_maps_as_the_json_value_route_did() {
        let mut out = Vec::new();
        to_binds(&T, &item(), &mut out).unwrap();
        assert_eq!(
            out,
            vec![
                Bind::Text("a:1".into()),
                Bind::Int(7),
                Bind::Int(1),
                Bind::Text("false".into()),
                Bind::Text(r#"{"k":[1,"x"]}"#.into()),
                Bind::Text("[1,2]".into()),
                Bind::Null,
                Bind::Null,
                Bind::Text("Up".into()),
            ]
        );
        // a null JSON column is NULL, not the text "null"
        let mut it = item();
        it.args = serde_json::Value::Null;
        let mut out = Vec::new();
        to_binds(&T, &it, &mut out).unwrap();
        assert_eq!(out[4], Bind::Null);
    }

    #[test]
    fn an_integer_beyond_i64_is_out_of_range_with_the_row_id() {
        let mut it = item();
        it.n = u64::MAX;
        let mut out = Vec::new();
        match to_binds(&T, &it, &mut out) {
            Err(StoreError::OutOfRange {
                collection,
                id,
                field,
            }) => {
                assert_eq!(
                    (collection.as_str(), id.as_str(), field.as_str()),
                    ("t", "a:1", "n")
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(out.is_empty(), "nothing is appended for a bad row");
    }

    #[test]
    fn only_a_struct_is_a_row() {
        let mut out = Vec::new();
        assert!(matches!(
            to_binds(&T, &json!({"_id": "x"}), &mut out),
            Err(StoreError::Invalid(_))
        ));
    }
}
