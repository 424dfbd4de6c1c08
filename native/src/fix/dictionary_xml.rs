//! QuickFIX's XML data dictionary format (cargo feature `fix`): [`load`] reads one into a
//! [`Dictionary`], [`to_xml`] writes one (e.g. the built-in FIX 4.4 dictionary, so that it
//! can be edited and loaded back).
//!
//! Read: `<fix major minor>` with `<header>`, `<trailer>`, `<messages>` (`<message name
//! msgtype msgcat>` of `<field name required>`, `<group name required>` and `<component
//! name required>`), `<components>` and `<fields>` (`<field number name type>` with `<value
//! enum>` children). Groups nest; components are expanded where they are used (a field is
//! required when it and every component around it are). Types: INT, LENGTH, SEQNUM,
//! NUMINGROUP, TAGNUM, DAYOFMONTH, FLOAT, QTY, PRICE, PRICEOFFSET, AMT, PERCENTAGE, CHAR,
//! BOOLEAN, UTCTIMESTAMP, LOCALMKTDATE, UTCDATEONLY, UTCDATE, MONTHYEAR, and the text types
//! (STRING, MULTIPLEVALUESTRING, CURRENCY, EXCHANGE, DATA, ...; UTCTIMEONLY and the other
//! time-of-day types are read as text, unchecked). Anything else is an error naming the file
//! and line.
//!
//! Written: the same elements, messages flattened (no components), fields by number, enum
//! values without descriptions (QuickFIX reads `enum` only).

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use roxmltree::{Document, Node};

use super::data_dictionary::{Dictionary, FieldDef, GroupSpec, MessageSpec, Section};
use super::dictionary::FieldType;

/// Why a data dictionary file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DictionaryError {
    /// The file cannot be read.
    #[error("data dictionary {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The file is not well-formed XML, or not a QuickFIX data dictionary.
    #[error("data dictionary {path}, line {line}: {what}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u32,
        /// What is wrong.
        what: String,
    },
}

/// The type checked for a FIX type name, or `None` for an unknown name.
pub fn field_type_of(type_name: &str) -> Option<FieldType> {
    use FieldType::*;
    Some(match type_name {
        "INT" | "DAYOFMONTH" => Int,
        "LENGTH" | "SEQNUM" | "NUMINGROUP" | "TAGNUM" => UInt,
        "FLOAT" | "QTY" | "PRICE" | "PRICEOFFSET" | "AMT" | "PERCENTAGE" => Float,
        "CHAR" => Char,
        "BOOLEAN" => Boolean,
        "UTCTIMESTAMP" | "TIME" => UtcTimestamp,
        "LOCALMKTDATE" | "UTCDATEONLY" | "UTCDATE" | "DATE" => Date,
        "MONTHYEAR" => MonthYear,
        "STRING"
        | "MULTIPLEVALUESTRING"
        | "MULTIPLESTRINGVALUE"
        | "MULTIPLECHARVALUE"
        | "CURRENCY"
        | "EXCHANGE"
        | "COUNTRY"
        | "DATA"
        | "XMLDATA"
        | "LANGUAGE"
        | "UTCTIMEONLY"
        | "TZTIMEONLY"
        | "TZTIMESTAMP"
        | "LOCALMKTTIME"
        | "RESERVED100PLUS"
        | "RESERVED1000PLUS"
        | "RESERVED4000PLUS" => String,
        _ => return None,
    })
}

/// Reads a QuickFIX XML data dictionary.
pub fn load(path: &Path) -> Result<Dictionary, DictionaryError> {
    let text = std::fs::read_to_string(path).map_err(|source| DictionaryError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&text, path)
}

/// Reads a QuickFIX XML data dictionary from `text`; `path` names it in errors.
pub fn parse(text: &str, path: &Path) -> Result<Dictionary, DictionaryError> {
    let doc = Document::parse(text).map_err(|e| DictionaryError::Invalid {
        path: path.to_path_buf(),
        line: e.pos().row,
        what: format!("not well-formed XML: {e}"),
    })?;
    Reader {
        doc: &doc,
        path,
        fields: HashMap::new(),
        components: HashMap::new(),
    }
    .read()
}

struct Reader<'a, 'i> {
    doc: &'a Document<'i>,
    path: &'a Path,
    /// name -> number
    fields: HashMap<String, u32>,
    components: HashMap<String, Node<'a, 'i>>,
}

/// A message, header or trailer body being read.
#[derive(Default)]
struct Body {
    fields: Vec<(u32, bool)>,
    groups: Vec<GroupSpec>,
}

impl<'a, 'i> Reader<'a, 'i> {
    fn err(&self, node: Node<'_, '_>, what: impl Into<String>) -> DictionaryError {
        DictionaryError::Invalid {
            path: self.path.to_path_buf(),
            line: self.doc.text_pos_at(node.range().start).row,
            what: what.into(),
        }
    }

    fn attr(&self, node: Node<'a, 'i>, name: &str) -> Result<&'a str, DictionaryError> {
        node.attribute(name).ok_or_else(|| {
            self.err(
                node,
                format!("<{}> has no {name}=\"...\"", node.tag_name().name()),
            )
        })
    }

    fn required(&self, node: Node<'a, 'i>) -> Result<bool, DictionaryError> {
        match node.attribute("required") {
            Some("Y") | Some("y") => Ok(true),
            Some("N") | Some("n") | None => Ok(false),
            Some(other) => {
                Err(self.err(node, format!("required=\"{other}\" must be \"Y\" or \"N\"")))
            }
        }
    }

    fn child(&self, root: Node<'a, 'i>, name: &str) -> Result<Node<'a, 'i>, DictionaryError> {
        root.children()
            .find(|n| n.has_tag_name(name))
            .ok_or_else(|| self.err(root, format!("<fix> has no <{name}> section")))
    }

    fn read(mut self) -> Result<Dictionary, DictionaryError> {
        let root = self.doc.root_element();
        if !root.has_tag_name("fix") {
            return Err(self.err(
                root,
                format!(
                    "the root element is <{}>, not <fix> (a QuickFIX data dictionary)",
                    root.tag_name().name()
                ),
            ));
        }
        let major = self.attr(root, "major")?;
        let minor = self.attr(root, "minor")?;
        let begin_string = format!(
            "{}.{major}.{minor}",
            root.attribute("type").unwrap_or("FIX")
        );
        let fields = self.read_fields(self.child(root, "fields")?)?;
        if let Some(comps) = root.children().find(|n| n.has_tag_name("components")) {
            for c in comps.children().filter(|n| n.has_tag_name("component")) {
                let name = self.attr(c, "name")?;
                self.components.insert(name.to_string(), c);
            }
        }
        let header = self.read_body(self.child(root, "header")?, true, &mut Vec::new())?;
        let trailer = self.read_body(self.child(root, "trailer")?, true, &mut Vec::new())?;
        let mut messages = Vec::new();
        let mut types = HashSet::new();
        for m in self
            .child(root, "messages")?
            .children()
            .filter(|n| n.has_tag_name("message"))
        {
            let name = self.attr(m, "name")?;
            let msg_type = self.attr(m, "msgtype")?;
            if !types.insert(msg_type) {
                return Err(self.err(m, format!("msgtype {msg_type:?} is defined twice")));
            }
            let cat = m.attribute("msgcat").unwrap_or("app");
            let body = self.read_body(m, true, &mut Vec::new())?;
            messages.push(MessageSpec::new(
                msg_type,
                name,
                cat,
                body.fields,
                body.groups,
            ));
        }
        Ok(Dictionary::new(
            &begin_string,
            fields,
            Section::new(header.fields, header.groups),
            Section::new(trailer.fields, trailer.groups),
            messages,
        ))
    }

    fn read_fields(&mut self, section: Node<'a, 'i>) -> Result<Vec<FieldDef>, DictionaryError> {
        let mut out = Vec::new();
        let mut numbers = HashSet::new();
        for f in section.children().filter(|n| n.is_element()) {
            if !f.has_tag_name("field") {
                return Err(self.err(
                    f,
                    format!(
                        "<{}> in <fields>: only <field> belongs there",
                        f.tag_name().name()
                    ),
                ));
            }
            let name = self.attr(f, "name")?;
            let number_text = self.attr(f, "number")?;
            let number: u32 = number_text.parse().ok().filter(|&n| n > 0).ok_or_else(|| {
                self.err(
                    f,
                    format!("field {name}: number {number_text:?} is not a tag number"),
                )
            })?;
            let type_name = self.attr(f, "type")?;
            let ty = field_type_of(type_name)
                .ok_or_else(|| self.err(f, format!("field {name}: unknown type {type_name:?}")))?;
            if !numbers.insert(number) {
                return Err(self.err(f, format!("field number {number} is defined twice")));
            }
            if self.fields.insert(name.to_string(), number).is_some() {
                return Err(self.err(f, format!("field name {name} is defined twice")));
            }
            let mut values = Vec::new();
            for v in f.children().filter(|n| n.is_element()) {
                if !v.has_tag_name("value") {
                    return Err(self.err(
                        v,
                        format!(
                            "<{}> in field {name}: only <value enum=...> belongs there",
                            v.tag_name().name()
                        ),
                    ));
                }
                values.push(self.attr(v, "enum")?.to_string());
            }
            out.push(FieldDef {
                number,
                name: name.to_string(),
                type_name: type_name.to_string(),
                ty,
                values,
            });
        }
        Ok(out)
    }

    /// Reads the fields, groups and components of `node` (a message, group, component,
    /// header or trailer); `outer_required`: whether the components around are required;
    /// `stack`: components being expanded (to catch cycles).
    fn read_body(
        &self,
        node: Node<'a, 'i>,
        outer_required: bool,
        stack: &mut Vec<String>,
    ) -> Result<Body, DictionaryError> {
        let mut body = Body::default();
        for c in node.children().filter(|n| n.is_element()) {
            match c.tag_name().name() {
                "field" => {
                    let tag = self.field_ref(c)?;
                    body.fields.push((tag, outer_required && self.required(c)?));
                }
                "group" => {
                    let g = self.read_group(c, stack)?;
                    body.fields
                        .push((g.count_tag, outer_required && self.required(c)?));
                    body.groups.push(g);
                }
                "component" => {
                    let name = self.attr(c, "name")?;
                    let def = *self.components.get(name).ok_or_else(|| {
                        self.err(
                            c,
                            format!("component {name} is not defined in <components>"),
                        )
                    })?;
                    if stack.iter().any(|s| s == name) {
                        return Err(self.err(c, format!("component {name} contains itself")));
                    }
                    stack.push(name.to_string());
                    let inner = self.read_body(def, outer_required && self.required(c)?, stack)?;
                    stack.pop();
                    body.fields.extend(inner.fields);
                    body.groups.extend(inner.groups);
                }
                other => {
                    return Err(self.err(
                        c,
                        format!(
                            "<{other}> in <{}>: expected <field>, <group> or <component>",
                            node.tag_name().name()
                        ),
                    ))
                }
            }
        }
        Ok(body)
    }

    fn read_group(
        &self,
        node: Node<'a, 'i>,
        stack: &mut Vec<String>,
    ) -> Result<GroupSpec, DictionaryError> {
        let count_tag = self.field_ref(node)?;
        let inner = self.read_body(node, true, stack)?;
        if inner.fields.is_empty() {
            return Err(self.err(node, "a <group> needs at least one member"));
        }
        Ok(GroupSpec {
            count_tag,
            members: inner.fields.iter().map(|&(t, _)| t).collect(),
            required: inner
                .fields
                .iter()
                .filter(|&&(_, r)| r)
                .map(|&(t, _)| t)
                .collect(),
            groups: inner.groups,
        })
    }

    fn field_ref(&self, node: Node<'a, 'i>) -> Result<u32, DictionaryError> {
        let name = self.attr(node, "name")?;
        self.fields
            .get(name)
            .copied()
            .ok_or_else(|| self.err(node, format!("field {name} is not defined in <fields>")))
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn yn(b: bool) -> &'static str {
    if b {
        "Y"
    } else {
        "N"
    }
}

fn write_body(
    out: &mut String,
    d: &Dictionary,
    fields: &[(u32, bool)],
    groups: &[GroupSpec],
    indent: usize,
) {
    let pad = " ".repeat(indent);
    for &(tag, required) in fields {
        let name = d.field(tag).map_or(String::new(), |f| escape(&f.name));
        match groups.iter().find(|g| g.count_tag == tag) {
            Some(g) => {
                let _ = writeln!(
                    out,
                    "{pad}<group name=\"{name}\" required=\"{}\">",
                    yn(required)
                );
                let members: Vec<(u32, bool)> = g
                    .members
                    .iter()
                    .map(|&m| (m, g.required.contains(&m)))
                    .collect();
                write_body(out, d, &members, &g.groups, indent + 1);
                let _ = writeln!(out, "{pad}</group>");
            }
            None => {
                let _ = writeln!(
                    out,
                    "{pad}<field name=\"{name}\" required=\"{}\"/>",
                    yn(required)
                );
            }
        }
    }
}

/// The dictionary in QuickFIX's XML format.
pub fn to_xml(d: &Dictionary) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let (kind, version) = d.begin_string.split_once('.').unwrap_or(("FIX", "4.4"));
    let (major, minor) = version.split_once('.').unwrap_or((version, "0"));
    let _ = writeln!(
        out,
        "<fix type=\"{}\" major=\"{}\" minor=\"{}\" servicepack=\"0\">",
        escape(kind),
        escape(major),
        escape(minor)
    );
    out.push_str(" <header>\n");
    write_body(&mut out, d, &d.header.fields, &d.header.groups, 2);
    out.push_str(" </header>\n <messages>\n");
    for m in &d.messages {
        let _ = writeln!(
            out,
            "  <message name=\"{}\" msgtype=\"{}\" msgcat=\"{}\">",
            escape(&m.name),
            escape(&m.msg_type),
            escape(&m.category)
        );
        write_body(&mut out, d, &m.fields, &m.groups, 3);
        out.push_str("  </message>\n");
    }
    out.push_str(" </messages>\n <trailer>\n");
    write_body(&mut out, d, &d.trailer.fields, &d.trailer.groups, 2);
    out.push_str(" </trailer>\n <components/>\n <fields>\n");
    for f in d.fields() {
        let head = format!(
            "  <field number=\"{}\" name=\"{}\" type=\"{}\"",
            f.number,
            escape(&f.name),
            escape(&f.type_name)
        );
        if f.values.is_empty() {
            let _ = writeln!(out, "{head}/>");
        } else {
            let _ = writeln!(out, "{head}>");
            for v in &f.values {
                let _ = writeln!(out, "   <value enum=\"{}\"/>", escape(v));
            }
            out.push_str("  </field>\n");
        }
    }
    out.push_str(" </fields>\n</fix>\n");
    out
}

/// Writes the dictionary to `path` in QuickFIX's XML format.
pub fn write(d: &Dictionary, path: &Path) -> Result<(), DictionaryError> {
    std::fs::write(path, to_xml(d)).map_err(|source| DictionaryError::Io {
        path: path.to_path_buf(),
        source,
    })
}
