//! The FIX 4.4 data dictionary of the messages this engine speaks, and validation against it.
//!
//! Messages: Logon (A), Heartbeat (0), TestRequest (1), ResendRequest (2), Reject (3),
//! SequenceReset (4), Logout (5), NewOrderSingle (D), OrderCancelRequest (F),
//! OrderCancelReplaceRequest (G), ExecutionReport (8), OrderCancelReject (9) and
//! BusinessMessageReject (j). Their fields follow FIX 4.4 (QuickFIX's `FIX44.xml`), with the
//! Instrument component cut to Symbol, SecurityID, SecurityIDSource, SecurityType,
//! MaturityMonthYear and SecurityExchange, and the Parties (453) and MiscFees (136) groups.
//!
//! [`validate`] runs QuickFIX's checks in QuickFIX's order, with its default settings
//! (`ValidateFieldsOutOfOrder`, `ValidateFieldsHaveValues` on) and reports the first failure:
//! - MsgType (35) missing: Reject reason 1; not a FIX 4.4 MsgType: Reject reason 11; a FIX 4.4
//!   MsgType this engine does not speak: BusinessMessageReject reason 3 (Unsupported Message
//!   Type), as QuickFIX does when the application throws `UnsupportedMessageType`.
//! - 35 not third, a header field after the body, or a trailer field before its end: reason 14.
//! - a field without a value: 4; a tag number above the FIX 4.4 range (956) and below the
//!   user-defined range (5000): 0; a FIX tag not in this message: 2; user-defined tags
//!   (5000 and up) are let through (QuickFIX's `ValidateUserDefinedFields=N`, set here
//!   because counterparties routinely add them).
//! - a value of the wrong type: 6; not among the enumerated values: 5; a tag twice outside a
//!   repeating group: 13; a group whose first field is not its delimiter: 15; a NumInGroup
//!   that does not match the instances: 16; a required field missing: 1 (header first).

use thiserror::Error;

use super::codec::{is_float, parse_date, parse_int, parse_utc_timestamp, MessageView};
use super::tags::{self, is_header, is_trailer};

/// FIX 4.4 data types, as far as validation distinguishes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// Signed integer.
    Int,
    /// Non-negative integer (SeqNum, Length, NumInGroup).
    UInt,
    /// Decimal number (float, Qty, Price, Amt, PriceOffset, Percentage).
    Float,
    /// One character.
    Char,
    /// `Y` or `N`.
    Boolean,
    /// Any text (String, Currency, Exchange, MultipleValueString, Data).
    String,
    /// `YYYYMMDD-HH:MM:SS[.sss]`.
    UtcTimestamp,
    /// `YYYYMMDD` (LocalMktDate, UTCDateOnly).
    Date,
    /// `YYYYMM`, `YYYYMMDD` or `YYYYMMwN`.
    MonthYear,
}

/// The SessionRejectReason (373) values of FIX 4.4.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum SessionRejectReason {
    /// 0
    InvalidTagNumber = 0,
    /// 1
    RequiredTagMissing = 1,
    /// 2
    TagNotDefinedForMessageType = 2,
    /// 3
    UndefinedTag = 3,
    /// 4
    TagSpecifiedWithoutValue = 4,
    /// 5
    ValueIsIncorrect = 5,
    /// 6
    IncorrectDataFormat = 6,
    /// 7
    DecryptionProblem = 7,
    /// 8
    SignatureProblem = 8,
    /// 9
    CompIdProblem = 9,
    /// 10
    SendingTimeAccuracyProblem = 10,
    /// 11
    InvalidMsgType = 11,
    /// 13
    TagAppearsMoreThanOnce = 13,
    /// 14
    TagSpecifiedOutOfRequiredOrder = 14,
    /// 15
    RepeatingGroupFieldsOutOfOrder = 15,
    /// 16
    IncorrectNumInGroupCount = 16,
    /// 99
    Other = 99,
}

/// BusinessRejectReason (380): Unsupported Message Type.
pub const BUSINESS_REJECT_UNSUPPORTED_MSG_TYPE: u32 = 3;
/// BusinessRejectReason (380): Conditionally Required Field Missing.
pub const BUSINESS_REJECT_CONDITIONAL_FIELD_MISSING: u32 = 5;

/// Why a message failed validation, and which reject answers it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Rejection {
    /// Answer with a session-level Reject (35=3).
    #[error("session reject {reason:?} (373={code}), tag {ref_tag:?}: {text}", code = *.reason as u8)]
    Session {
        /// SessionRejectReason (373).
        reason: SessionRejectReason,
        /// RefTagID (371).
        ref_tag: Option<u32>,
        /// Text (58).
        text: String,
    },
    /// Answer with a BusinessMessageReject (35=j).
    #[error("business reject 380={reason}: {text}")]
    Business {
        /// BusinessRejectReason (380).
        reason: u32,
        /// Text (58).
        text: String,
    },
}

fn reject(reason: SessionRejectReason, tag: u32, text: &str) -> Rejection {
    Rejection::Session {
        reason,
        ref_tag: Some(tag),
        text: text.to_string(),
    }
}

/// A repeating group: its NumInGroup tag, and its member tags (the first is the delimiter).
#[derive(Debug)]
pub struct GroupDef {
    /// The NumInGroup field.
    pub count_tag: u32,
    /// Member tags; the first starts each instance.
    pub members: &'static [u32],
}

/// A message: its MsgType, required and optional body fields, and groups.
#[derive(Debug)]
pub struct MessageDef {
    /// MsgType (35).
    pub msg_type: &'static str,
    /// Name in the FIX specification.
    pub name: &'static str,
    /// Required body fields.
    pub required: &'static [u32],
    /// Optional body fields (group members are listed in `groups`).
    pub optional: &'static [u32],
    /// Repeating groups.
    pub groups: &'static [GroupDef],
}

const PARTIES: GroupDef = GroupDef {
    count_tag: tags::NO_PARTY_IDS,
    members: &[tags::PARTY_ID, tags::PARTY_ID_SOURCE, tags::PARTY_ROLE],
};
const MISC_FEES: GroupDef = GroupDef {
    count_tag: tags::NO_MISC_FEES,
    members: &[137, 138, 139, 891],
};
const MSG_TYPES: GroupDef = GroupDef {
    count_tag: tags::NO_MSG_TYPES,
    members: &[372, 385],
};
/// Header group NoHops (627).
const HOPS: GroupDef = GroupDef {
    count_tag: 627,
    members: &[628, 629, 630],
};

/// Required header fields (besides 8, 9, 35).
pub const HEADER_REQUIRED: [u32; 4] = [49, 56, 34, 52];

/// The messages of this dictionary.
pub static MESSAGES: &[MessageDef] = &[
    MessageDef {
        msg_type: "0",
        name: "Heartbeat",
        required: &[],
        optional: &[112],
        groups: &[],
    },
    MessageDef {
        msg_type: "1",
        name: "TestRequest",
        required: &[112],
        optional: &[],
        groups: &[],
    },
    MessageDef {
        msg_type: "2",
        name: "ResendRequest",
        required: &[7, 16],
        optional: &[],
        groups: &[],
    },
    MessageDef {
        msg_type: "3",
        name: "Reject",
        required: &[45],
        optional: &[371, 372, 373, 58, 354, 355],
        groups: &[],
    },
    MessageDef {
        msg_type: "4",
        name: "SequenceReset",
        required: &[36],
        optional: &[123],
        groups: &[],
    },
    MessageDef {
        msg_type: "5",
        name: "Logout",
        required: &[],
        optional: &[58, 354, 355],
        groups: &[],
    },
    MessageDef {
        msg_type: "A",
        name: "Logon",
        required: &[98, 108],
        optional: &[95, 96, 141, 789, 383, 464, 553, 554],
        groups: &[MSG_TYPES],
    },
    MessageDef {
        msg_type: "D",
        name: "NewOrderSingle",
        required: &[11, 55, 54, 60, 40],
        optional: &[
            526, 1, 21, 18, 110, 111, 100, 48, 22, 167, 200, 207, 38, 152, 44, 99, 15, 59, 126,
            432, 528, 582, 77, 58, 354, 355, 63, 64, 114, 117, 211, 388, 389, 847, 848, 849,
        ],
        groups: &[PARTIES],
    },
    MessageDef {
        msg_type: "F",
        name: "OrderCancelRequest",
        required: &[41, 11, 55, 54, 60],
        optional: &[
            37, 526, 1, 48, 22, 167, 200, 207, 38, 152, 58, 354, 355, 586,
        ],
        groups: &[PARTIES],
    },
    MessageDef {
        msg_type: "G",
        name: "OrderCancelReplaceRequest",
        required: &[41, 11, 55, 54, 60, 40],
        optional: &[
            37, 526, 1, 21, 18, 110, 111, 100, 48, 22, 167, 200, 207, 38, 152, 44, 99, 15, 59, 126,
            432, 528, 582, 77, 58, 354, 355, 63, 64, 114, 211, 388, 389, 586,
        ],
        groups: &[PARTIES],
    },
    MessageDef {
        msg_type: "8",
        name: "ExecutionReport",
        required: &[37, 17, 150, 39, 55, 54, 151, 14, 6],
        optional: &[
            198, 526, 11, 41, 1, 19, 103, 48, 22, 167, 200, 207, 38, 152, 40, 44, 99, 15, 59, 126,
            432, 18, 32, 31, 30, 424, 425, 426, 75, 60, 58, 354, 355, 528, 582, 77, 110, 111, 63,
            64, 21, 378, 636, 797, 1057, 527, 880, 790, 851,
        ],
        groups: &[PARTIES, MISC_FEES],
    },
    MessageDef {
        msg_type: "H",
        name: "OrderStatusRequest",
        required: &[11, 55, 54],
        optional: &[37, 790, 526, 1, 48, 22, 167, 200, 207],
        groups: &[PARTIES],
    },
    // User-defined (35=U...): the replay control of a driven simulated exchange.
    MessageDef {
        msg_type: "U1",
        name: "ReplayRequest",
        required: &[60],
        optional: &[],
        groups: &[],
    },
    MessageDef {
        msg_type: "U2",
        name: "ReplayStatus",
        required: &[60],
        optional: &[],
        groups: &[],
    },
    MessageDef {
        msg_type: "9",
        name: "OrderCancelReject",
        required: &[37, 11, 41, 39, 434],
        optional: &[198, 526, 1, 60, 102, 58, 354, 355, 586],
        groups: &[],
    },
    MessageDef {
        msg_type: "j",
        name: "BusinessMessageReject",
        required: &[372, 380],
        optional: &[45, 379, 58, 354, 355],
        groups: &[],
    },
];

/// Every MsgType defined by FIX 4.4 (a valid type this engine does not speak gets a
/// BusinessMessageReject; anything else a session Reject with reason 11).
const FIX44_MSG_TYPES: &[&str] = &[
    "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "A", "B", "C", "D", "E", "F", "G", "H", "J",
    "K", "L", "M", "N", "P", "Q", "R", "S", "T", "V", "W", "X", "Y", "Z", "a", "b", "c", "d", "e",
    "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r", "s", "t", "u", "v", "w", "x",
    "y", "z", "AA", "AB", "AC", "AD", "AE", "AF", "AG", "AH", "AI", "AJ", "AK", "AL", "AM", "AN",
    "AO", "AP", "AQ", "AR", "AS", "AT", "AU", "AV", "AW", "AX", "AY", "AZ", "BA", "BB", "BC", "BD",
    "BE", "BF", "BG", "BH",
];

/// The definition of `msg_type`, if this dictionary has it.
pub fn message_def(msg_type: &[u8]) -> Option<&'static MessageDef> {
    MESSAGES.iter().find(|m| m.msg_type.as_bytes() == msg_type)
}

/// Whether `msg_type` is a FIX 4.4 MsgType.
pub fn is_fix44_msg_type(msg_type: &[u8]) -> bool {
    FIX44_MSG_TYPES.iter().any(|t| t.as_bytes() == msg_type)
}

const SIDES: &[&str] = &[
    "1", "2", "3", "4", "5", "6", "7", "8", "9", "A", "B", "C", "D", "E", "F", "G",
];

/// The type of `tag` and its enumerated values (empty: any value of the type).
pub fn field_type(tag: u32) -> Option<(FieldType, &'static [&'static str])> {
    use FieldType::*;
    Some(match tag {
        9 | 34 | 36 | 7 | 16 | 45 | 369 | 789 | 90 | 95 | 212 | 93 | 354 | 383 | 384 | 453
        | 136 | 627 | 630 | 371 => (UInt, &[]),
        108 | 582 | 891 | 424 | 1057 => (Int, &[]),
        8 | 35 | 49 | 56 | 115 | 128 | 91 | 50 | 142 | 57 | 143 | 116 | 144 | 129 | 145 | 213
        | 347 | 628 | 89 | 10 | 96 | 112 | 372 | 58 | 355 | 379 | 553 | 554 | 11 | 526 | 1 | 18
        | 100 | 55 | 48 | 167 | 207 | 15 | 37 | 198 | 41 | 17 | 19 | 30 | 448 | 138 | 586 | 114
        | 211 | 388 | 389 | 847 | 848 | 849 | 117 | 378 | 636 | 797 | 880 | 527 | 63 | 790 => {
            (String, &[])
        }
        43 | 97 | 123 | 141 | 464 => (Boolean, &[]),
        52 | 122 | 629 | 60 | 126 => (UtcTimestamp, &[]),
        432 | 75 | 64 => (Date, &[]),
        200 => (MonthYear, &[]),
        110 | 111 | 38 | 152 | 44 | 99 | 32 | 31 | 151 | 14 | 6 | 425 | 426 | 137 => (Float, &[]),
        98 => (Int, &["0", "1", "2", "3", "4", "5", "6"]),
        851 => (Int, &["1", "2", "3"]),
        373 => (
            Int,
            &[
                "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14",
                "15", "16", "17", "18", "99",
            ],
        ),
        380 => (Int, &["0", "1", "2", "3", "4", "5", "6", "7", "8", "18"]),
        102 => (Int, &["0", "1", "2", "3", "4", "5", "6", "18", "99"]),
        103 => (
            Int,
            &[
                "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14",
                "15", "16", "18", "99",
            ],
        ),
        452 => (Int, &[]),
        385 => (Char, &["R", "S"]),
        54 => (Char, SIDES),
        40 => (
            Char,
            &[
                "1", "2", "3", "4", "5", "6", "7", "8", "9", "A", "B", "C", "D", "E", "F", "G",
                "H", "I", "J", "K", "L", "M", "P",
            ],
        ),
        59 => (Char, &["0", "1", "2", "3", "4", "5", "6", "7"]),
        21 => (Char, &["1", "2", "3"]),
        39 => (
            Char,
            &[
                "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "A", "B", "C", "D", "E",
            ],
        ),
        150 => (
            Char,
            &[
                "0", "3", "4", "5", "6", "7", "8", "9", "A", "B", "C", "D", "E", "F", "G", "H", "I",
            ],
        ),
        434 => (Char, &["1", "2"]),
        447 => (
            Char,
            &[
                "B", "C", "D", "E", "F", "G", "H", "I", "1", "2", "3", "4", "5", "6", "7", "8", "9",
            ],
        ),
        139 => (
            String,
            &[
                "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12",
            ],
        ),
        528 => (Char, &["A", "G", "I", "P", "R", "W"]),
        77 => (Char, &["O", "C", "R", "F"]),
        22 => (
            String,
            &[
                "1", "2", "3", "4", "5", "6", "7", "8", "9", "A", "B", "C", "D", "E", "F", "G", "H",
            ],
        ),
        _ => return None,
    })
}

/// Whether `value` is a well-formed value of type `ty`.
pub fn check_type(ty: FieldType, value: &[u8]) -> bool {
    match ty {
        FieldType::Int => parse_int(value).is_some(),
        FieldType::UInt => parse_int(value).is_some_and(|v| v >= 0),
        FieldType::Float => is_float(value),
        FieldType::Char => value.len() == 1,
        FieldType::Boolean => value == b"Y" || value == b"N",
        FieldType::String => true,
        FieldType::UtcTimestamp => parse_utc_timestamp(value).is_some(),
        FieldType::Date => parse_date(value).is_some(),
        FieldType::MonthYear => {
            value.len() >= 6
                && value[..6].iter().all(u8::is_ascii_digit)
                && (value.len() == 6
                    || (value.len() == 8 && value[6..].iter().all(u8::is_ascii_digit))
                    || (value.len() == 8 && value[6] == b'w' && value[7].is_ascii_digit()))
        }
    }
}

/// Largest tag number FIX 4.4 defines.
pub const FIX44_MAX_TAG: u32 = 956;
/// First user-defined tag number.
pub const USER_DEFINED_MIN: u32 = 5000;

fn group_of(def: &MessageDef, count_tag: u32) -> Option<&'static GroupDef> {
    if count_tag == HOPS.count_tag {
        return Some(&HOPS);
    }
    def.groups.iter().find(|g| g.count_tag == count_tag)
}

fn in_message(def: &MessageDef, tag: u32) -> bool {
    is_header(tag)
        || is_trailer(tag)
        || def.required.contains(&tag)
        || def.optional.contains(&tag)
        || def
            .groups
            .iter()
            .any(|g| g.count_tag == tag || g.members.contains(&tag))
}

/// Validates a decoded message against the dictionary; `Err` names the reject to send.
///
/// Framing (8, 9, 10) has been checked by the decoder already.
pub fn validate(msg: &MessageView<'_>) -> Result<(), Rejection> {
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
    let Some(def) = message_def(mt) else {
        return Err(if is_fix44_msg_type(mt) {
            Rejection::Business {
                reason: BUSINESS_REJECT_UNSUPPORTED_MSG_TYPE,
                text: format!("Unsupported Message Type {}", String::from_utf8_lossy(mt)),
            }
        } else {
            reject(R::InvalidMsgType, tags::MSG_TYPE, "Invalid MsgType")
        });
    };
    // one pass: order, values, types, enums, duplicates, groups
    let n = msg.len();
    let mut in_body = false;
    let mut seen: [u64; 16] = [0; 16]; // tags < 1024 seen outside groups
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
        if is_header(tag) {
            if in_body {
                return Err(reject(
                    R::TagSpecifiedOutOfRequiredOrder,
                    tag,
                    "Tag specified out of required order",
                ));
            }
        } else if is_trailer(tag) {
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
        check_field(def, tag, value)?;
        if tag < 1024 {
            let (w, b) = ((tag / 64) as usize, tag % 64);
            if seen[w] & (1 << b) != 0 {
                return Err(reject(
                    R::TagAppearsMoreThanOnce,
                    tag,
                    "Tag appears more than once",
                ));
            }
            seen[w] |= 1 << b;
        }
        i += 1;
        if let Some(g) = group_of(def, tag) {
            i = check_group(msg, g, def, tag, value, i)?;
        }
    }
    for t in HEADER_REQUIRED.iter().chain(def.required) {
        if msg.get(*t).is_none() {
            return Err(reject(R::RequiredTagMissing, *t, "Required tag missing"));
        }
    }
    Ok(())
}

fn check_field(def: &MessageDef, tag: u32, value: &[u8]) -> Result<(), Rejection> {
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
    if tag > FIX44_MAX_TAG {
        return Err(reject(R::InvalidTagNumber, tag, "Invalid tag number"));
    }
    if !in_message(def, tag) {
        return Err(reject(
            R::TagNotDefinedForMessageType,
            tag,
            "Tag not defined for this message type",
        ));
    }
    if let Some((ty, values)) = field_type(tag) {
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

/// Checks the instances of group `g` after its NumInGroup field at `i - 1`; returns the index
/// of the first field after the group.
fn check_group(
    msg: &MessageView<'_>,
    g: &GroupDef,
    def: &MessageDef,
    count_tag: u32,
    count: &[u8],
    mut i: usize,
) -> Result<usize, Rejection> {
    use SessionRejectReason as R;
    let declared = parse_int(count).unwrap_or(0) as u64;
    let mut instances = 0u64;
    let mut seen_in_instance: Vec<u32> = Vec::new();
    while let Some((tag, value)) = msg.field(i) {
        if !g.members.contains(&tag) {
            break;
        }
        if tag == g.members[0] {
            instances += 1;
            seen_in_instance.clear();
        } else if instances == 0 {
            return Err(reject(
                R::RepeatingGroupFieldsOutOfOrder,
                tag,
                "Repeating group fields out of order",
            ));
        }
        if seen_in_instance.contains(&tag) {
            return Err(reject(
                R::RepeatingGroupFieldsOutOfOrder,
                tag,
                "Repeating group fields out of order",
            ));
        }
        seen_in_instance.push(tag);
        check_field(def, tag, value)?;
        i += 1;
    }
    if instances != declared {
        return Err(reject(
            R::IncorrectNumInGroupCount,
            count_tag,
            "Incorrect NumInGroup count for repeating group",
        ));
    }
    Ok(i)
}

#[cfg(test)]
mod tests {
    use super::super::codec::{Decoder, Encoder, Message};
    use super::*;

    fn base(mt: &str) -> Message {
        let mut m = Message::of_type(mt.as_bytes());
        m.set(49, "A")
            .set(56, "B")
            .set(34, "2")
            .set(52, "20240102-10:00:00.000");
        m
    }

    fn nos() -> Message {
        let mut m = base("D");
        m.set(11, "c1")
            .set(55, "MCLZ5")
            .set(54, "1")
            .set(60, "20240102-10:00:00.000");
        m.set(40, "2").set(38, "1").set(44, "70.5");
        m
    }

    fn check(m: &Message) -> Result<(), Rejection> {
        let frame = Encoder::default().to_vec(m);
        let mut d = Decoder::new();
        let v = d.decode(&frame).unwrap();
        validate(&v)
    }

    fn session(reason: SessionRejectReason, tag: u32) -> impl Fn(Result<(), Rejection>) {
        move |r| match r {
            Err(Rejection::Session {
                reason: got,
                ref_tag,
                ..
            }) => assert_eq!((got, ref_tag), (reason, Some(tag))),
            other => panic!("expected {reason:?} on {tag}, got {other:?}"),
        }
    }

    #[test]
    fn valid_messages_pass() {
        check(&nos()).unwrap();
        let mut m = nos();
        m.push(453, "2");
        m.push(448, "T1").push(447, "D").push(452, "11");
        m.push(448, "F").push(447, "D").push(452, "1");
        check(&m).unwrap();
        let mut l = base("A");
        l.set(98, "0").set(108, "30").set(141, "Y");
        check(&l).unwrap();
        let mut er = base("8");
        for (t, v) in [
            (37, "o1"),
            (17, "e1"),
            (150, "F"),
            (39, "2"),
            (55, "MCLZ5"),
            (54, "2"),
        ] {
            er.set(t, v);
        }
        er.set(151, "0")
            .set(14, "1")
            .set(6, "70.5")
            .set(32, "1")
            .set(31, "70.5");
        check(&er).unwrap();
    }

    #[test]
    fn each_failure_names_its_reason() {
        use SessionRejectReason as R;
        let mut m = nos();
        m.remove(54);
        session(R::RequiredTagMissing, 54)(check(&m));
        let mut m = nos();
        m.remove(49);
        session(R::RequiredTagMissing, 49)(check(&m));
        let mut m = nos();
        m.set(54, "Z");
        session(R::ValueIsIncorrect, 54)(check(&m));
        let mut m = nos();
        m.set(38, "1x");
        session(R::IncorrectDataFormat, 38)(check(&m));
        let mut m = nos();
        m.set(60, "2024-01-02");
        session(R::IncorrectDataFormat, 60)(check(&m));
        let mut m = nos();
        m.set(58, "");
        session(R::TagSpecifiedWithoutValue, 58)(check(&m));
        let mut m = nos();
        m.set(123, "Y");
        session(R::TagNotDefinedForMessageType, 123)(check(&m));
        let mut m = nos();
        m.set(3000, "x");
        session(R::InvalidTagNumber, 3000)(check(&m));
        let mut m = nos();
        m.set(5001, "x");
        check(&m).unwrap();
        let mut m = nos();
        m.push(38, "2");
        session(R::TagAppearsMoreThanOnce, 38)(check(&m));
        let mut m = nos();
        m.push(453, "2").push(448, "T1").push(452, "11");
        session(R::IncorrectNumInGroupCount, 453)(check(&m));
        let mut m = nos();
        m.push(453, "1").push(452, "11").push(448, "T1");
        session(R::RepeatingGroupFieldsOutOfOrder, 452)(check(&m));
        let mut m = base("ZZ");
        m.set(58, "x");
        session(R::InvalidMsgType, 35)(check(&m));
        let m = base("V");
        assert!(matches!(
            check(&m),
            Err(Rejection::Business { reason: 3, .. })
        ));
    }

    #[test]
    fn header_field_after_body_is_out_of_order() {
        let mut frame = Encoder::default().to_vec(&nos());
        // rebuild by hand: put 43=Y after the body
        let s = String::from_utf8(frame.clone()).unwrap();
        let body_end = s.rfind("\x0110=").unwrap() + 1;
        let mut raw = s[..body_end].split_once("\x019=").unwrap().1.to_string();
        raw = raw.split_once('\x01').unwrap().1.to_string() + "43=Y\x01";
        let head = format!("8=FIX.4.4\x019={}\x01", raw.len());
        let pre = head + &raw;
        let cs: u32 = pre.bytes().map(u32::from).sum::<u32>() % 256;
        frame = format!("{pre}10={cs:03}\x01").into_bytes();
        let mut d = Decoder::new();
        let v = d.decode(&frame).unwrap();
        session(SessionRejectReason::TagSpecifiedOutOfRequiredOrder, 43)(validate(&v));
    }
}
