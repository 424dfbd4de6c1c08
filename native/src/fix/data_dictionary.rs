//! A FIX data dictionary held at run time: the built-in FIX 4.4 one ([`Dictionary::builtin`],
//! built once from the tables of [`super::dictionary`]) or one read from a QuickFIX XML
//! file (`dictionary_xml`, cargo feature `fix`), and validation against it.
//!
//! [`Dictionary::validate`] runs the checks listed in [`super::dictionary`], in the same
//! order, with the same answers. What a file can change: the fields (number, name, type,
//! enumerated values), the header and trailer fields and which are required, the messages
//! (their fields, which are required, their repeating groups, nested or not, and which group
//! members are required). Tag numbers of FIX 4.4 (1-956) count as defined even when the file
//! leaves them out (a field of FIX 4.4 not in a message is reason 2, not 0), so a file that
//! lists only the fields of the messages used validates like QuickFIX's full `FIX44.xml`;
//! user-defined tags (5000 and up) are let through unchecked, as built in.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::codec::{parse_int, MessageView};
use super::dictionary::{
    check_type, field_type, is_fix44_msg_type, FieldType, Rejection, SessionRejectReason,
    BUSINESS_REJECT_UNSUPPORTED_MSG_TYPE, FIX44_MAX_TAG, HEADER_REQUIRED, MESSAGES,
    USER_DEFINED_MIN,
};
use super::tags::{self, is_header, is_trailer};

/// Tags below this are looked up in bitsets and tables; above, in maps.
const DENSE: u32 = 1024;

/// A set of tag numbers: a bitset below [`DENSE`], a list above.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagSet {
    bits: [u64; (DENSE / 64) as usize],
    high: Vec<u32>,
}

impl TagSet {
    /// Adds `tag`.
    pub fn insert(&mut self, tag: u32) {
        if tag < DENSE {
            self.bits[(tag / 64) as usize] |= 1 << (tag % 64);
        } else if !self.high.contains(&tag) {
            self.high.push(tag);
        }
    }

    /// Whether `tag` is in.
    #[inline]
    pub fn contains(&self, tag: u32) -> bool {
        if tag < DENSE {
            self.bits[(tag / 64) as usize] & (1 << (tag % 64)) != 0
        } else {
            self.high.contains(&tag)
        }
    }
}

/// A field: number, name, type and enumerated values (empty: any value of the type).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldDef {
    /// Tag number.
    pub number: u32,
    /// Name (`ClOrdID`).
    pub name: String,
    /// The FIX type name of the file (`STRING`, `QTY`, `UTCTIMESTAMP`, ...).
    pub type_name: String,
    /// The type checked.
    pub ty: FieldType,
    /// Enumerated values, in file order.
    pub values: Vec<String>,
}

/// A repeating group: NumInGroup tag, member tags in order (the first one starts each
/// instance), the members required in each instance, and nested groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupSpec {
    /// The NumInGroup field.
    pub count_tag: u32,
    /// Direct members in order (nested groups by their NumInGroup tag).
    pub members: Vec<u32>,
    /// Members every instance must carry.
    pub required: Vec<u32>,
    /// Nested groups.
    pub groups: Vec<GroupSpec>,
}

impl GroupSpec {
    fn all_tags(&self, out: &mut TagSet) {
        out.insert(self.count_tag);
        for &m in &self.members {
            out.insert(m);
        }
        for g in &self.groups {
            g.all_tags(out);
        }
    }
}

/// A message: MsgType, name, body fields in order with their required flags, groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageSpec {
    /// MsgType (35).
    pub msg_type: String,
    /// Name (`NewOrderSingle`).
    pub name: String,
    /// `admin` or `app`.
    pub category: String,
    /// Body fields in order (groups by their NumInGroup tag), with whether required.
    pub fields: Vec<(u32, bool)>,
    /// Repeating groups of the body.
    pub groups: Vec<GroupSpec>,
    /// Every tag allowed in the message (header, trailer, body, group members).
    allowed: TagSet,
}

/// Header or trailer: fields in order with required flags, groups.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Section {
    /// Fields in order (groups by their NumInGroup tag), with whether required.
    pub fields: Vec<(u32, bool)>,
    /// Repeating groups.
    pub groups: Vec<GroupSpec>,
    tags: TagSet,
}

impl Section {
    /// A section of these fields and groups.
    pub fn new(fields: Vec<(u32, bool)>, groups: Vec<GroupSpec>) -> Self {
        let mut tags = TagSet::default();
        for &(t, _) in &fields {
            tags.insert(t);
        }
        for g in &groups {
            g.all_tags(&mut tags);
        }
        Self {
            fields,
            groups,
            tags,
        }
    }

    /// Whether `tag` belongs to the section (group members included).
    pub fn contains(&self, tag: u32) -> bool {
        self.tags.contains(tag)
    }
}

/// A FIX data dictionary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dictionary {
    /// BeginString (`FIX.4.4`).
    pub begin_string: String,
    /// Fields by number.
    fields: HashMap<u32, FieldDef>,
    /// Dense index of `fields` below [`DENSE`]: (type, enum values).
    dense: Vec<Option<(FieldType, Vec<String>)>>,
    /// Header.
    pub header: Section,
    /// Trailer.
    pub trailer: Section,
    /// Messages.
    pub messages: Vec<MessageSpec>,
}

impl MessageSpec {
    /// A message; `allowed` is filled by [`Dictionary::new`].
    pub fn new(
        msg_type: &str,
        name: &str,
        category: &str,
        fields: Vec<(u32, bool)>,
        groups: Vec<GroupSpec>,
    ) -> Self {
        Self {
            msg_type: msg_type.to_string(),
            name: name.to_string(),
            category: category.to_string(),
            fields,
            groups,
            allowed: TagSet::default(),
        }
    }
}

fn reject(reason: SessionRejectReason, tag: u32, text: &str) -> Rejection {
    Rejection::Session {
        reason,
        ref_tag: Some(tag),
        text: text.to_string(),
    }
}

impl Dictionary {
    /// A dictionary of these parts.
    pub fn new(
        begin_string: &str,
        fields: Vec<FieldDef>,
        header: Section,
        trailer: Section,
        mut messages: Vec<MessageSpec>,
    ) -> Self {
        let mut dense = vec![None; DENSE as usize];
        let mut map = HashMap::with_capacity(fields.len());
        for f in fields {
            if f.number < DENSE {
                dense[f.number as usize] = Some((f.ty, f.values.clone()));
            }
            map.insert(f.number, f);
        }
        for m in &mut messages {
            let mut allowed = TagSet::default();
            for &(t, _) in header.fields.iter().chain(&trailer.fields).chain(&m.fields) {
                allowed.insert(t);
            }
            for g in header.groups.iter().chain(&trailer.groups).chain(&m.groups) {
                g.all_tags(&mut allowed);
            }
            m.allowed = allowed;
        }
        Self {
            begin_string: begin_string.to_string(),
            fields: map,
            dense,
            header,
            trailer,
            messages,
        }
    }

    /// The built-in FIX 4.4 dictionary (the messages this engine speaks).
    pub fn builtin() -> &'static Dictionary {
        static BUILTIN: OnceLock<Dictionary> = OnceLock::new();
        BUILTIN.get_or_init(build_builtin)
    }

    /// The field `number`, if defined.
    pub fn field(&self, number: u32) -> Option<&FieldDef> {
        self.fields.get(&number)
    }

    /// All fields, by number.
    pub fn fields(&self) -> impl Iterator<Item = &FieldDef> {
        let mut v: Vec<&FieldDef> = self.fields.values().collect();
        v.sort_by_key(|f| f.number);
        v.into_iter()
    }

    /// The message of `msg_type`, if defined.
    pub fn message(&self, msg_type: &[u8]) -> Option<&MessageSpec> {
        self.messages
            .iter()
            .find(|m| m.msg_type.as_bytes() == msg_type)
    }

    fn type_of(&self, tag: u32) -> Option<(FieldType, &[String])> {
        if tag < DENSE {
            self.dense[tag as usize]
                .as_ref()
                .map(|(t, v)| (*t, v.as_slice()))
        } else {
            self.fields.get(&tag).map(|f| (f.ty, f.values.as_slice()))
        }
    }

    fn header_group(&self, tag: u32) -> Option<&GroupSpec> {
        self.header
            .groups
            .iter()
            .chain(&self.trailer.groups)
            .find(|g| g.count_tag == tag)
    }

    /// Validates a decoded message; `Err` names the reject to send.
    ///
    /// Framing (8, 9, 10) has been checked by the decoder already.
    pub fn validate(&self, msg: &MessageView<'_>) -> Result<(), Rejection> {
        use SessionRejectReason as R;
        let Some(mt) = msg.get(tags::MSG_TYPE) else {
            return Err(reject(
                R::RequiredTagMissing,
                tags::MSG_TYPE,
                "Required tag missing",
            ));
        };
        if msg.field(2).map(|f| f.0) != Some(tags::MSG_TYPE) {
            return Err(reject(
                R::TagSpecifiedOutOfRequiredOrder,
                tags::MSG_TYPE,
                "MsgType must be the third field",
            ));
        }
        let Some(def) = self.message(mt) else {
            return Err(if is_fix44_msg_type(mt) {
                Rejection::Business {
                    reason: BUSINESS_REJECT_UNSUPPORTED_MSG_TYPE,
                    text: format!("Unsupported Message Type {}", String::from_utf8_lossy(mt)),
                }
            } else {
                reject(R::InvalidMsgType, tags::MSG_TYPE, "Invalid MsgType")
            });
        };
        let n = msg.len();
        let mut in_body = false;
        let mut seen = TagSet::default(); // tags seen outside groups
        let mut i = 0;
        while i < n {
            let Some((tag, value)) = msg.field(i) else {
                break;
            };
            if i < 3 {
                i += 1;
                continue;
            }
            if tag == tags::CHECK_SUM {
                if i != n - 1 {
                    return Err(reject(
                        R::TagSpecifiedOutOfRequiredOrder,
                        tag,
                        "Tag specified out of required order",
                    ));
                }
                break;
            }
            if self.header.contains(tag) {
                if in_body {
                    return Err(reject(
                        R::TagSpecifiedOutOfRequiredOrder,
                        tag,
                        "Tag specified out of required order",
                    ));
                }
            } else if self.trailer.contains(tag) {
                let next = msg.field(i + 1).map(|f| f.0);
                if !(next == Some(tags::CHECK_SUM) || (tag == 93 && next == Some(89))) {
                    return Err(reject(
                        R::TagSpecifiedOutOfRequiredOrder,
                        tag,
                        "Tag specified out of required order",
                    ));
                }
            } else {
                in_body = true;
            }
            self.check_field(def, tag, value)?;
            if seen.contains(tag) {
                return Err(reject(
                    R::TagAppearsMoreThanOnce,
                    tag,
                    "Tag appears more than once",
                ));
            }
            seen.insert(tag);
            i += 1;
            let group = self
                .header_group(tag)
                .or_else(|| def.groups.iter().find(|g| g.count_tag == tag));
            if let Some(g) = group {
                i = self.check_group(msg, g, def, value, i)?;
            }
        }
        let required = self
            .header
            .fields
            .iter()
            .chain(&def.fields)
            .chain(&self.trailer.fields)
            .filter(|&&(t, req)| req && !matches!(t, 8 | 9 | 35 | 10));
        for &(t, _) in required {
            if msg.get(t).is_none() {
                return Err(reject(R::RequiredTagMissing, t, "Required tag missing"));
            }
        }
        Ok(())
    }

    fn check_field(&self, def: &MessageSpec, tag: u32, value: &[u8]) -> Result<(), Rejection> {
        use SessionRejectReason as R;
        if value.is_empty() {
            return Err(reject(
                R::TagSpecifiedWithoutValue,
                tag,
                "Tag specified without a value",
            ));
        }
        if tag >= USER_DEFINED_MIN {
            return Ok(());
        }
        let typed = self.type_of(tag);
        if tag > FIX44_MAX_TAG && typed.is_none() {
            return Err(reject(R::InvalidTagNumber, tag, "Invalid tag number"));
        }
        if !def.allowed.contains(tag) {
            return Err(reject(
                R::TagNotDefinedForMessageType,
                tag,
                "Tag not defined for this message type",
            ));
        }
        if let Some((ty, values)) = typed {
            if !check_type(ty, value) {
                return Err(reject(
                    R::IncorrectDataFormat,
                    tag,
                    "Incorrect data format for value",
                ));
            }
            if !values.is_empty() && !values.iter().any(|v| v.as_bytes() == value) {
                return Err(reject(
                    R::ValueIsIncorrect,
                    tag,
                    "Value is incorrect (out of range) for this tag",
                ));
            }
        }
        Ok(())
    }

    /// Checks the instances of group `g` after its NumInGroup field (value `count`) at
    /// `i - 1`; returns the index of the first field after the group.
    fn check_group(
        &self,
        msg: &MessageView<'_>,
        g: &GroupSpec,
        def: &MessageSpec,
        count: &[u8],
        mut i: usize,
    ) -> Result<usize, Rejection> {
        use SessionRejectReason as R;
        let declared = parse_int(count).unwrap_or(0) as u64;
        let mut instances = 0u64;
        let mut seen: Vec<u32> = Vec::new();
        let check_required = |seen: &[u32]| -> Result<(), Rejection> {
            match g.required.iter().find(|t| !seen.contains(t)) {
                Some(&t) => Err(reject(R::RequiredTagMissing, t, "Required tag missing")),
                None => Ok(()),
            }
        };
        while let Some((tag, value)) = msg.field(i) {
            if !g.members.contains(&tag) {
                break;
            }
            if tag == g.members[0] {
                if instances > 0 {
                    check_required(&seen)?;
                }
                instances += 1;
                seen.clear();
            } else if instances == 0 {
                return Err(reject(
                    R::RepeatingGroupFieldsOutOfOrder,
                    tag,
                    "Repeating group fields out of order",
                ));
            }
            if seen.contains(&tag) {
                return Err(reject(
                    R::RepeatingGroupFieldsOutOfOrder,
                    tag,
                    "Repeating group fields out of order",
                ));
            }
            seen.push(tag);
            self.check_field(def, tag, value)?;
            i += 1;
            if let Some(nested) = g.groups.iter().find(|n| n.count_tag == tag) {
                i = self.check_group(msg, nested, def, value, i)?;
            }
        }
        if instances > 0 {
            check_required(&seen)?;
        }
        if instances != declared {
            return Err(reject(
                R::IncorrectNumInGroupCount,
                g.count_tag,
                "Incorrect NumInGroup count for repeating group",
            ));
        }
        Ok(i)
    }
}

/// The header fields of FIX 4.4 in order (QuickFIX's `FIX44.xml`); NoHops (627) is a group.
pub const HEADER_ORDER: &[u32] = &[
    8, 9, 35, 49, 56, 115, 128, 90, 91, 34, 50, 142, 57, 143, 116, 144, 129, 145, 43, 97, 52, 122,
    212, 213, 347, 369, 627,
];
/// The trailer fields of FIX 4.4 in order.
pub const TRAILER_ORDER: &[u32] = &[93, 89, 10];

fn builtin_group(g: &super::dictionary::GroupDef) -> GroupSpec {
    GroupSpec {
        count_tag: g.count_tag,
        members: g.members.to_vec(),
        required: Vec::new(),
        groups: Vec::new(),
    }
}

fn build_builtin() -> Dictionary {
    let hops = GroupSpec {
        count_tag: 627,
        members: vec![628, 629, 630],
        required: Vec::new(),
        groups: Vec::new(),
    };
    let always = [8u32, 9, 35];
    let header_fields = HEADER_ORDER
        .iter()
        .map(|&t| (t, always.contains(&t) || HEADER_REQUIRED.contains(&t)))
        .collect();
    let header = Section::new(header_fields, vec![hops]);
    let trailer = Section::new(vec![(93, false), (89, false), (10, true)], Vec::new());
    let mut used = TagSet::default();
    let mut messages = Vec::new();
    for m in MESSAGES {
        let mut fields: Vec<(u32, bool)> = m.required.iter().map(|&t| (t, true)).collect();
        fields.extend(m.optional.iter().map(|&t| (t, false)));
        fields.extend(m.groups.iter().map(|g| (g.count_tag, false)));
        let groups: Vec<GroupSpec> = m.groups.iter().map(builtin_group).collect();
        let category = if tags::is_admin(m.msg_type.as_bytes()) {
            "admin"
        } else {
            "app"
        };
        messages.push(MessageSpec::new(
            m.msg_type, m.name, category, fields, groups,
        ));
    }
    for t in (1..=FIX44_MAX_TAG).filter(|&t| field_type(t).is_some()) {
        used.insert(t);
    }
    for m in &messages {
        for &(t, _) in &m.fields {
            used.insert(t);
        }
        for g in &m.groups {
            g.all_tags(&mut used);
        }
    }
    for &(t, _) in header.fields.iter().chain(&trailer.fields) {
        used.insert(t);
    }
    for g in &header.groups {
        g.all_tags(&mut used);
    }
    let fields = (1..USER_DEFINED_MIN)
        .filter(|&t| used.contains(t))
        .map(|t| {
            let (name, type_name) = super::dictionary::field_name(t);
            let (ty, values) = field_type(t).unwrap_or((FieldType::String, &[]));
            FieldDef {
                number: t,
                name: name.to_string(),
                type_name: type_name.to_string(),
                ty,
                values: values.iter().map(|v| v.to_string()).collect(),
            }
        })
        .collect();
    debug_assert!(HEADER_ORDER.iter().all(|&t| is_header(t)));
    debug_assert!(TRAILER_ORDER.iter().all(|&t| is_trailer(t)));
    Dictionary::new("FIX.4.4", fields, header, trailer, messages)
}
