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
use super::tags;

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
            64, 21, 378, 636, 797, 527, 880, 790, 851,
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
        108 | 582 | 891 | 424 => (Int, &[]),
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

/// The FIX 4.4 name and type name (as in QuickFIX's `FIX44.xml`) of the fields of this
/// dictionary; `("", "STRING")` for another tag.
pub fn field_name(tag: u32) -> (&'static str, &'static str) {
    match tag {
        1 => ("Account", "STRING"),
        6 => ("AvgPx", "PRICE"),
        7 => ("BeginSeqNo", "SEQNUM"),
        8 => ("BeginString", "STRING"),
        9 => ("BodyLength", "LENGTH"),
        10 => ("CheckSum", "STRING"),
        11 => ("ClOrdID", "STRING"),
        14 => ("CumQty", "QTY"),
        15 => ("Currency", "CURRENCY"),
        16 => ("EndSeqNo", "SEQNUM"),
        17 => ("ExecID", "STRING"),
        18 => ("ExecInst", "MULTIPLEVALUESTRING"),
        19 => ("ExecRefID", "STRING"),
        21 => ("HandlInst", "CHAR"),
        22 => ("SecurityIDSource", "STRING"),
        30 => ("LastMkt", "EXCHANGE"),
        31 => ("LastPx", "PRICE"),
        32 => ("LastQty", "QTY"),
        34 => ("MsgSeqNum", "SEQNUM"),
        35 => ("MsgType", "STRING"),
        36 => ("NewSeqNo", "SEQNUM"),
        37 => ("OrderID", "STRING"),
        38 => ("OrderQty", "QTY"),
        39 => ("OrdStatus", "CHAR"),
        40 => ("OrdType", "CHAR"),
        41 => ("OrigClOrdID", "STRING"),
        43 => ("PossDupFlag", "BOOLEAN"),
        44 => ("Price", "PRICE"),
        45 => ("RefSeqNum", "SEQNUM"),
        48 => ("SecurityID", "STRING"),
        49 => ("SenderCompID", "STRING"),
        50 => ("SenderSubID", "STRING"),
        52 => ("SendingTime", "UTCTIMESTAMP"),
        54 => ("Side", "CHAR"),
        55 => ("Symbol", "STRING"),
        56 => ("TargetCompID", "STRING"),
        57 => ("TargetSubID", "STRING"),
        58 => ("Text", "STRING"),
        59 => ("TimeInForce", "CHAR"),
        60 => ("TransactTime", "UTCTIMESTAMP"),
        63 => ("SettlType", "STRING"),
        64 => ("SettlDate", "LOCALMKTDATE"),
        75 => ("TradeDate", "LOCALMKTDATE"),
        77 => ("PositionEffect", "CHAR"),
        89 => ("Signature", "DATA"),
        90 => ("SecureDataLen", "LENGTH"),
        91 => ("SecureData", "DATA"),
        93 => ("SignatureLength", "LENGTH"),
        95 => ("RawDataLength", "LENGTH"),
        96 => ("RawData", "DATA"),
        97 => ("PossResend", "BOOLEAN"),
        98 => ("EncryptMethod", "INT"),
        99 => ("StopPx", "PRICE"),
        100 => ("ExDestination", "EXCHANGE"),
        102 => ("CxlRejReason", "INT"),
        103 => ("OrdRejReason", "INT"),
        108 => ("HeartBtInt", "INT"),
        110 => ("MinQty", "QTY"),
        111 => ("MaxFloor", "QTY"),
        112 => ("TestReqID", "STRING"),
        114 => ("LocateReqd", "STRING"),
        115 => ("OnBehalfOfCompID", "STRING"),
        116 => ("OnBehalfOfSubID", "STRING"),
        117 => ("QuoteID", "STRING"),
        122 => ("OrigSendingTime", "UTCTIMESTAMP"),
        123 => ("GapFillFlag", "BOOLEAN"),
        126 => ("ExpireTime", "UTCTIMESTAMP"),
        128 => ("DeliverToCompID", "STRING"),
        129 => ("DeliverToSubID", "STRING"),
        136 => ("NoMiscFees", "NUMINGROUP"),
        137 => ("MiscFeeAmt", "AMT"),
        138 => ("MiscFeeCurr", "CURRENCY"),
        139 => ("MiscFeeType", "STRING"),
        141 => ("ResetSeqNumFlag", "BOOLEAN"),
        142 => ("SenderLocationID", "STRING"),
        143 => ("TargetLocationID", "STRING"),
        144 => ("OnBehalfOfLocationID", "STRING"),
        145 => ("DeliverToLocationID", "STRING"),
        150 => ("ExecType", "CHAR"),
        151 => ("LeavesQty", "QTY"),
        152 => ("CashOrderQty", "QTY"),
        167 => ("SecurityType", "STRING"),
        198 => ("SecondaryOrderID", "STRING"),
        200 => ("MaturityMonthYear", "MONTHYEAR"),
        207 => ("SecurityExchange", "EXCHANGE"),
        211 => ("PegOffsetValue", "STRING"),
        212 => ("XmlDataLen", "LENGTH"),
        213 => ("XmlData", "DATA"),
        347 => ("MessageEncoding", "STRING"),
        354 => ("EncodedTextLen", "LENGTH"),
        355 => ("EncodedText", "DATA"),
        369 => ("LastMsgSeqNumProcessed", "SEQNUM"),
        371 => ("RefTagID", "TAGNUM"),
        372 => ("RefMsgType", "STRING"),
        373 => ("SessionRejectReason", "INT"),
        378 => ("ExecRestatementReason", "STRING"),
        379 => ("BusinessRejectRefID", "STRING"),
        380 => ("BusinessRejectReason", "INT"),
        383 => ("MaxMessageSize", "LENGTH"),
        384 => ("NoMsgTypes", "NUMINGROUP"),
        385 => ("MsgDirection", "CHAR"),
        388 => ("DiscretionInst", "STRING"),
        389 => ("DiscretionOffsetValue", "STRING"),
        424 => ("DayOrderQty", "INT"),
        425 => ("DayCumQty", "QTY"),
        426 => ("DayAvgPx", "PRICE"),
        432 => ("ExpireDate", "LOCALMKTDATE"),
        434 => ("CxlRejResponseTo", "CHAR"),
        447 => ("PartyIDSource", "CHAR"),
        448 => ("PartyID", "STRING"),
        452 => ("PartyRole", "INT"),
        453 => ("NoPartyIDs", "NUMINGROUP"),
        464 => ("TestMessageIndicator", "BOOLEAN"),
        526 => ("SecondaryClOrdID", "STRING"),
        527 => ("SecondaryExecID", "STRING"),
        528 => ("OrderCapacity", "CHAR"),
        553 => ("Username", "STRING"),
        554 => ("Password", "STRING"),
        582 => ("CustOrderCapacity", "INT"),
        586 => ("OrigOrdModTime", "STRING"),
        627 => ("NoHops", "NUMINGROUP"),
        628 => ("HopCompID", "STRING"),
        629 => ("HopSendingTime", "UTCTIMESTAMP"),
        630 => ("HopRefID", "SEQNUM"),
        636 => ("WorkingIndicator", "STRING"),
        789 => ("NextExpectedMsgSeqNum", "SEQNUM"),
        790 => ("OrdStatusReqID", "STRING"),
        797 => ("CopyMsgIndicator", "STRING"),
        847 => ("TargetStrategy", "STRING"),
        848 => ("TargetStrategyParameters", "STRING"),
        849 => ("ParticipationRate", "STRING"),
        851 => ("LastLiquidityInd", "INT"),
        880 => ("TrdMatchID", "STRING"),
        891 => ("MiscFeeBasis", "INT"),
        _ => ("", "STRING"),
    }
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

/// Validates a decoded message against the built-in dictionary
/// ([`super::data_dictionary::Dictionary::builtin`]); `Err` names the reject to send.
///
/// Framing (8, 9, 10) has been checked by the decoder already.
pub fn validate(msg: &MessageView<'_>) -> Result<(), Rejection> {
    super::data_dictionary::Dictionary::builtin().validate(msg)
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
