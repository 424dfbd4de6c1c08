//! FIX 4.4 tag numbers and MsgType values used by the engine.
//!
//! Only the tags of the messages this engine speaks are named here; the
//! [`dictionary`](super::dictionary) knows their types and which message allows them.

#![allow(missing_docs)] // each constant is named after its FIX field

// Standard header and trailer.
pub const BEGIN_STRING: u32 = 8;
pub const BODY_LENGTH: u32 = 9;
pub const CHECK_SUM: u32 = 10;
pub const MSG_TYPE: u32 = 35;
pub const SENDER_COMP_ID: u32 = 49;
pub const TARGET_COMP_ID: u32 = 56;
pub const MSG_SEQ_NUM: u32 = 34;
pub const SENDING_TIME: u32 = 52;
pub const POSS_DUP_FLAG: u32 = 43;
pub const POSS_RESEND: u32 = 97;
pub const ORIG_SENDING_TIME: u32 = 122;
pub const ON_BEHALF_OF_COMP_ID: u32 = 115;
pub const DELIVER_TO_COMP_ID: u32 = 128;
pub const SECURE_DATA_LEN: u32 = 90;
pub const SECURE_DATA: u32 = 91;
pub const SENDER_SUB_ID: u32 = 50;
pub const SENDER_LOCATION_ID: u32 = 142;
pub const TARGET_SUB_ID: u32 = 57;
pub const TARGET_LOCATION_ID: u32 = 143;
pub const ON_BEHALF_OF_SUB_ID: u32 = 116;
pub const ON_BEHALF_OF_LOCATION_ID: u32 = 144;
pub const DELIVER_TO_SUB_ID: u32 = 129;
pub const DELIVER_TO_LOCATION_ID: u32 = 145;
pub const XML_DATA_LEN: u32 = 212;
pub const XML_DATA: u32 = 213;
pub const MESSAGE_ENCODING: u32 = 347;
pub const LAST_MSG_SEQ_NUM_PROCESSED: u32 = 369;
pub const SIGNATURE_LENGTH: u32 = 93;
pub const SIGNATURE: u32 = 89;

// Session messages.
pub const ENCRYPT_METHOD: u32 = 98;
pub const HEART_BT_INT: u32 = 108;
pub const RESET_SEQ_NUM_FLAG: u32 = 141;
pub const NEXT_EXPECTED_MSG_SEQ_NUM: u32 = 789;
pub const MAX_MESSAGE_SIZE: u32 = 383;
pub const NO_MSG_TYPES: u32 = 384;
pub const REF_MSG_TYPE: u32 = 372;
pub const MSG_DIRECTION: u32 = 385;
pub const TEST_MESSAGE_INDICATOR: u32 = 464;
pub const USERNAME: u32 = 553;
pub const PASSWORD: u32 = 554;
pub const RAW_DATA_LENGTH: u32 = 95;
pub const RAW_DATA: u32 = 96;
pub const TEST_REQ_ID: u32 = 112;
pub const BEGIN_SEQ_NO: u32 = 7;
pub const END_SEQ_NO: u32 = 16;
pub const NEW_SEQ_NO: u32 = 36;
pub const GAP_FILL_FLAG: u32 = 123;
pub const REF_SEQ_NUM: u32 = 45;
pub const REF_TAG_ID: u32 = 371;
pub const SESSION_REJECT_REASON: u32 = 373;
pub const TEXT: u32 = 58;
pub const ENCODED_TEXT_LEN: u32 = 354;
pub const ENCODED_TEXT: u32 = 355;
pub const BUSINESS_REJECT_REF_ID: u32 = 379;
pub const BUSINESS_REJECT_REASON: u32 = 380;

// Orders and executions.
pub const ACCOUNT: u32 = 1;
pub const AVG_PX: u32 = 6;
pub const CL_ORD_ID: u32 = 11;
pub const CUM_QTY: u32 = 14;
pub const CURRENCY: u32 = 15;
pub const EXEC_ID: u32 = 17;
pub const EXEC_INST: u32 = 18;
pub const SECURITY_ID_SOURCE: u32 = 22;
pub const HANDL_INST: u32 = 21;
pub const LAST_PX: u32 = 31;
pub const LAST_QTY: u32 = 32;
pub const ORDER_ID: u32 = 37;
pub const ORDER_QTY: u32 = 38;
pub const ORD_STATUS: u32 = 39;
pub const ORD_TYPE: u32 = 40;
pub const ORIG_CL_ORD_ID: u32 = 41;
pub const PRICE: u32 = 44;
pub const SECURITY_ID: u32 = 48;
pub const SIDE: u32 = 54;
pub const SYMBOL: u32 = 55;
pub const TIME_IN_FORCE: u32 = 59;
pub const TRANSACT_TIME: u32 = 60;
pub const SETTL_TYPE: u32 = 63;
pub const TRADE_DATE: u32 = 75;
pub const STOP_PX: u32 = 99;
pub const EX_DESTINATION: u32 = 100;
pub const ORD_REJ_REASON: u32 = 103;
pub const MIN_QTY: u32 = 110;
pub const MAX_FLOOR: u32 = 111;
pub const EXPIRE_TIME: u32 = 126;
pub const SECURITY_TYPE: u32 = 167;
pub const MATURITY_MONTH_YEAR: u32 = 200;
pub const SECURITY_EXCHANGE: u32 = 207;
pub const EXPIRE_DATE: u32 = 432;
pub const CXL_REJ_REASON: u32 = 102;
pub const CXL_REJ_RESPONSE_TO: u32 = 434;
pub const NO_PARTY_IDS: u32 = 453;
pub const PARTY_ID: u32 = 448;
pub const PARTY_ID_SOURCE: u32 = 447;
pub const PARTY_ROLE: u32 = 452;
pub const EXEC_TYPE: u32 = 150;
pub const LEAVES_QTY: u32 = 151;
pub const SECONDARY_ORDER_ID: u32 = 198;
pub const SECONDARY_CL_ORD_ID: u32 = 526;
pub const ORDER_CAPACITY: u32 = 528;
pub const CUST_ORDER_CAPACITY: u32 = 582;
pub const MANUAL_ORDER_INDICATOR: u32 = 1028;
pub const LAST_MKT: u32 = 30;
pub const EXEC_REF_ID: u32 = 19;
pub const DAY_AVG_PX: u32 = 426;
pub const DAY_CUM_QTY: u32 = 425;
pub const CASH_ORDER_QTY: u32 = 152;
pub const POSITION_EFFECT: u32 = 77;
pub const ORDER_RESTRICTIONS: u32 = 529;
pub const NO_MISC_FEES: u32 = 136;
pub const MISC_FEE_AMT: u32 = 137;
pub const MISC_FEE_CURR: u32 = 138;
pub const MISC_FEE_TYPE: u32 = 139;
pub const MISC_FEE_BASIS: u32 = 891;
pub const ORD_STATUS_REQ_ID: u32 = 790;
pub const LAST_LIQUIDITY_IND: u32 = 851;

/// User-defined fields (5000-9999) of the replay control messages (`U1` / `U2`) that a
/// driven exchange (`Pace::Driven`) answers: the client moves the feed clock itself.
pub const REPLAY_REQ_ID: u32 = 5000;
/// `Y`: stop after the first feed record that produced a report (so the client can react
/// between two records, as in-process stepping does).
pub const REPLAY_STOP_ON_REPORT: u32 = 5001;
/// `Y` when the feed clock reached the requested TransactTime, `N` when it stopped early.
pub const REPLAY_REACHED: u32 = 5002;
/// Feed records applied so far.
pub const REPLAY_RECORDS: u32 = 5003;
/// The next record's time (ns since the epoch); absent at the end of the feed.
pub const REPLAY_NEXT_TIME: u32 = 5004;
/// `N`: the records strictly before the TransactTime only (time still passes to it);
/// `Y` (the default): those at it too.
pub const REPLAY_INCLUSIVE: u32 = 5005;

/// MsgType (35) values of the messages this engine speaks.
pub mod msg_type {
    #![allow(missing_docs)]
    pub const HEARTBEAT: &[u8] = b"0";
    pub const TEST_REQUEST: &[u8] = b"1";
    pub const RESEND_REQUEST: &[u8] = b"2";
    pub const REJECT: &[u8] = b"3";
    pub const SEQUENCE_RESET: &[u8] = b"4";
    pub const LOGOUT: &[u8] = b"5";
    pub const LOGON: &[u8] = b"A";
    pub const NEW_ORDER_SINGLE: &[u8] = b"D";
    pub const ORDER_CANCEL_REQUEST: &[u8] = b"F";
    pub const ORDER_CANCEL_REPLACE_REQUEST: &[u8] = b"G";
    pub const EXECUTION_REPORT: &[u8] = b"8";
    pub const ORDER_CANCEL_REJECT: &[u8] = b"9";
    pub const BUSINESS_MESSAGE_REJECT: &[u8] = b"j";
    pub const ORDER_STATUS_REQUEST: &[u8] = b"H";
    /// User-defined: move a driven exchange's feed clock (ReplayRequest).
    pub const REPLAY_REQUEST: &[u8] = b"U1";
    /// User-defined: where a driven exchange's feed clock is (ReplayStatus).
    pub const REPLAY_STATUS: &[u8] = b"U2";
}

/// Whether `msg_type` is one of the seven session-level (administrative) messages.
pub fn is_admin(msg_type: &[u8]) -> bool {
    matches!(msg_type, b"0" | b"1" | b"2" | b"3" | b"4" | b"5" | b"A")
}

/// Whether `tag` belongs to the FIX 4.4 standard header.
pub fn is_header(tag: u32) -> bool {
    matches!(
        tag,
        8 | 9
            | 35
            | 49
            | 56
            | 115
            | 128
            | 90
            | 91
            | 34
            | 50
            | 142
            | 57
            | 143
            | 116
            | 144
            | 129
            | 145
            | 43
            | 97
            | 52
            | 122
            | 212
            | 213
            | 347
            | 369
            | 627
            | 628
            | 629
            | 630
    )
}

/// Whether `tag` belongs to the FIX 4.4 standard trailer.
pub fn is_trailer(tag: u32) -> bool {
    matches!(tag, 93 | 89 | 10)
}

/// For a `data` field, the `Length` field that precedes it and gives its size in bytes
/// (a data value may contain SOH).
pub fn data_length_tag(data_tag: u32) -> Option<u32> {
    Some(match data_tag {
        SECURE_DATA => SECURE_DATA_LEN,
        RAW_DATA => RAW_DATA_LENGTH,
        XML_DATA => XML_DATA_LEN,
        SIGNATURE => SIGNATURE_LENGTH,
        ENCODED_TEXT => ENCODED_TEXT_LEN,
        349 => 348, // EncodedIssuer
        351 => 350, // EncodedSecurityDesc
        357 => 356, // EncodedSubject
        359 => 358, // EncodedHeadline
        361 => 360, // EncodedAllocText
        _ => return None,
    })
}
