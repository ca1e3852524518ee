//! Every human-readable text the API says, in Arabic (the default) and English. The language of
//! a request is chosen once by a middleware and kept in a task-local, so handlers and error
//! conversions never have to pass it around.

use wasl_domain::Lang;

tokio::task_local! {
    static LANG: Lang;
}

/// The language of the request being served (the default outside a request).
pub fn current_lang() -> Lang {
    LANG.try_with(|lang| *lang).unwrap_or_default()
}

/// Runs `fut` with `lang` as the request's language.
pub async fn with_lang<F: std::future::Future>(lang: Lang, fut: F) -> F::Output {
    LANG.scope(lang, fut).await
}

macro_rules! messages {
    ($($name:ident => $ar:literal, $en:literal;)*) => {
        /// A text the API can say.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Msg { $($name),* }

        impl Msg {
            pub fn text(self, lang: Lang) -> &'static str {
                match (self, lang) {
                    $((Msg::$name, Lang::Ar) => $ar, (Msg::$name, Lang::En) => $en,)*
                }
            }

            /// Every message, so a test can check that none is left untranslated.
            pub const ALL: &'static [Msg] = &[$(Msg::$name),*];
        }
    };
}

messages! {
    Ok => "تمت العملية بنجاح", "Done";
    Registered => "تم إنشاء الحساب بنجاح", "Account created successfully";
    LoggedIn => "تم تسجيل الدخول بنجاح", "Signed in successfully";
    LoggedOut => "تم تسجيل الخروج", "Signed out";
    PasswordChanged => "تم تغيير كلمة المرور. انتهت جلسات الدخول الأخرى", "Password changed. Other sign-ins have ended";
    WrongCurrentPassword => "كلمة المرور الحالية غير صحيحة", "The current password is incorrect";
    UserCreated => "تم إنشاء المستخدم بنجاح", "User created successfully";
    UserUpdated => "تم تحديث المستخدم بنجاح", "User updated successfully";
    UserDeleted => "تم حذف المستخدم بنجاح", "User deleted successfully";
    ApiKeyCreated => "تم إنشاء مفتاح API. احفظه الآن فلن يظهر مرة أخرى", "API key created. Save it now: it will not be shown again";
    ApiKeyDeleted => "تم حذف مفتاح API بنجاح", "API key deleted successfully";
    PlanUpdated => "تم تحديث الخطة بنجاح", "Plan updated successfully";
    Healthy => "الخدمة تعمل", "The service is running";
    Ready => "الخدمة جاهزة", "The service is ready";
    MessageNotConfirmed => "لم يتأكد حفظ الرسالة في الوقت المحدد؛ أعد إرسالها بالمعرّف نفسه (messageId)", "The message was not confirmed as stored in time; send it again with the same messageId";
    ValidationFailed => "البيانات المرسلة غير صالحة", "The data sent is not valid";
    InvalidPhoneNumber => "رقم الهاتف غير صالح", "The phone number is not valid";
    InvalidJson => "صيغة JSON غير صالحة", "The JSON body is malformed";
    UnsupportedMediaType => "نوع المحتوى غير مدعوم", "Unsupported content type";
    PayloadTooLarge => "حجم الطلب كبير جداً", "The request is too large";
    Unauthorized => "يجب تسجيل الدخول أولاً", "Authentication is required";
    InvalidToken => "رمز الدخول غير صالح أو منتهي الصلاحية", "The token is invalid or has expired";
    InvalidCredentials => "البريد الإلكتروني أو كلمة المرور غير صحيحة", "The e-mail or password is incorrect";
    AccountDisabled => "هذا الحساب معطّل", "This account is disabled";
    Forbidden => "ليست لديك صلاحية لهذا الإجراء", "You are not allowed to do this";
    AdminDisabled => "إدارة المنصة غير مفعّلة على هذا الخادم", "Platform administration is not enabled on this server";
    NotFound => "العنصر المطلوب غير موجود", "The requested item does not exist";
    RouteNotFound => "المسار غير موجود", "This route does not exist";
    MethodNotAllowed => "هذه الطريقة غير مسموحة لهذا المسار", "This method is not allowed on this route";
    EmailTaken => "البريد الإلكتروني مستخدم بالفعل", "This e-mail is already in use";
    TooManyAttempts => "محاولات كثيرة جداً. يرجى المحاولة لاحقاً", "Too many attempts. Please try again later";
    LastOwner => "لا يمكن إزالة آخر مالك للمؤسسة", "The organization's last owner cannot be removed";
    CannotDeleteSelf => "لا يمكنك حذف حسابك بنفسك", "You cannot delete your own account";
    NotReady => "الخدمة غير جاهزة حالياً؛ التفاصيل في details", "The service is not ready; see details";
    StorageUnavailable => "تعذّر الحفظ مؤقتاً: مساحة التخزين ممتلئة أو غير متاحة. لم يُحفظ شيء؛ أعد المحاولة بعد قليل", "Storage is full or unavailable right now. Nothing was saved; try again shortly";
    SessionCreated => "تم إنشاء الجلسة بنجاح. يرجى مسح QR Code", "Session created. Please scan the QR code";
    SessionPairing => "الجلسة قيد الربط. يرجى مسح QR Code", "The session is being linked. Please scan the QR code";
    QrFetched => "تم الحصول على QR Code بنجاح", "QR code fetched successfully";
    PairingCodeCreated => "تم إنشاء رمز الربط. أدخله في واتساب على هاتفك", "Pairing code created. Enter it in WhatsApp on your phone";
    SessionLoggedOut => "تم تسجيل الخروج من الجلسة وفصلها", "The session was logged out and disconnected";
    SessionNotConnected => "الجلسة غير متصلة", "The session is not connected";
    SessionAlreadyConnected => "الجلسة متصلة بالفعل. افصلها أولاً لربط رقم جديد", "The session is already connected. Disconnect it first to link again";
    QrNotReady => "QR Code غير جاهز بعد. حاول مرة أخرى بعد لحظات", "The QR code is not ready yet. Try again in a moment";
    PlanLimitReached => "وصلت إلى الحد الأقصى لعدد الجلسات في خطتك", "Your plan's session limit has been reached";
    EngineUnavailable => "هذا المحرك غير متاح على هذا الخادم", "This engine is not available on this server";
    NotSandboxSession => "هذه الجلسة لا تعمل على محرك التجربة (sandbox)", "This session does not run on the sandbox engine";
    NotSupportedByEngine => "محرك هذه الجلسة لا يدعم هذه العملية", "This session's engine does not support this";
    SandboxScanned => "تم مسح QR Code وربط الجلسة", "The QR code was scanned and the session linked";
    SandboxIncoming => "وصلت رسالة العميل التجريبية", "The simulated customer message arrived";
    SandboxRead => "قرأ العميل الرسالة", "The customer read the message";
    SandboxDropped => "انقطع الاتصال التجريبي", "The sandbox connection was dropped";
    MessageNotFound => "الرسالة غير موجودة", "The message does not exist";
    FileTooLarge => "حجم الملف كبير جداً", "The file is too large";
    MessageSent => "تم إرسال الرسالة بنجاح", "Message sent successfully";
    ContactUpdated => "تم تحديث جهة الاتصال بنجاح", "Contact updated successfully";
    ContactOptedOut => "طلب هذا العميل إيقاف الرسائل الترويجية، فلا تُرسل إليه قوالب تسويقية حتى يعيد الاشتراك", "This customer asked for no more promotional messages: marketing templates are not sent to them until they subscribe again";
    TemplateCreated => "تم حفظ القالب", "Template saved";
    TemplateUpdated => "تم تحديث القالب", "Template updated";
    TemplateDeleted => "تم حذف القالب", "Template deleted";
    TemplateExists => "يوجد قالب بهذا الاسم وهذه اللغة", "A template with this name and language already exists";
    TemplateInUse => "يستخدم رد تلقائي هذا القالب؛ غيّر الرد أو احذفه أولاً", "An auto-reply answers with this template; change or delete it first";
    TemplateVariableMissing => "بعض متغيرات القالب بلا قيمة؛ الأسماء في details", "Some of the template's variables have no value; details names them";
    TemplateVariableUnknown => "هذه المتغيرات ليست من متغيرات القالب؛ الأسماء في details", "These variables are not the template's; details names them";
    QuickReplyCreated => "تم حفظ الرد السريع", "Quick reply saved";
    QuickReplyUpdated => "تم تحديث الرد السريع", "Quick reply updated";
    QuickReplyDeleted => "تم حذف الرد السريع", "Quick reply deleted";
    ShortCodeTaken => "هذا الاختصار مستخدم لرد سريع آخر", "This short code is already used by another quick reply";
    MediaUploaded => "تم رفع الملف إلى مكتبة الوسائط", "File uploaded to the media library";
    MediaDeleted => "تم حذف الملف من مكتبة الوسائط", "File deleted from the media library";
    MediaInUse => "هذا الملف مستخدم في قالب أو رد سريع أو رد تلقائي؛ التفاصيل في details", "A template, quick reply or auto-reply sends this file; details names them";
    AutoReplyCreated => "تم حفظ الرد التلقائي", "Auto-reply saved";
    AutoReplyUpdated => "تم تحديث الرد التلقائي", "Auto-reply updated";
    AutoReplyDeleted => "تم حذف الرد التلقائي", "Auto-reply deleted";
    ScheduledMessageCreated => "تمت جدولة الرسالة", "Message scheduled";
    ScheduledMessageUpdated => "تم تحديث الرسالة المجدولة", "Scheduled message updated";
    ScheduledMessageDeleted => "تم حذف الرسالة المجدولة", "Scheduled message deleted";
    ScheduledMessagePaused => "أُوقفت الرسالة المجدولة مؤقتاً", "Scheduled message paused";
    ScheduledMessageResumed => "استُؤنفت الرسالة المجدولة", "Scheduled message resumed";
    ScheduledMessageCancelled => "أُلغيت الرسالة المجدولة", "Scheduled message cancelled";
    ScheduleEnded => "انتهت هذه الجدولة (اكتملت أو أُلغيت) فلا يمكن تغييرها", "This has ended (completed or cancelled), so it cannot be changed";
    BroadcastCreated => "تم حفظ البث كمسودة", "Broadcast saved as a draft";
    BroadcastUpdated => "تم تحديث البث", "Broadcast updated";
    BroadcastDeleted => "تم حذف البث", "Broadcast deleted";
    BroadcastStarting => "بدأ البث", "Broadcast started";
    BroadcastScheduled => "سيبدأ البث في موعده", "The broadcast will start at its time";
    BroadcastPaused => "أُوقف البث مؤقتاً", "Broadcast paused";
    BroadcastResumed => "استُؤنف البث", "Broadcast resumed";
    BroadcastCancelled => "أُلغي البث؛ لن يُرسل لمن بقي", "Broadcast cancelled; nobody left is sent to";
    BroadcastStarted => "بدأ هذا البث، فجمهوره ورسالته ثابتان", "This broadcast has started: its audience and message are fixed";
    BroadcastNotStarted => "لم يبدأ هذا البث بعد", "This broadcast has not started yet";
    OrganizationUpdated => "تم حفظ إعدادات المؤسسة", "Organization settings saved";
    BusinessHoursUpdated => "تم حفظ ساعات العمل", "Business hours saved";
    ContactBlocked => "جهة الاتصال محظورة. ألغِ الحظر أولاً", "This contact is blocked. Unblock it first";
    MessageNotSent => "لم تُرسَل هذه الرسالة بعد، فلا يمكن التفاعل معها", "This message has not been sent, so it cannot be reacted to";
    SessionStillLinked => "الجلسة ما زالت مرتبطة. سجّل خروجها أولاً ثم احذفها", "The session is still linked. Log it out first, then delete it";
    SessionDeleted => "حُذفت الجلسة ورسائلها نهائياً", "The session and its messages were deleted for good";
    ReactionSet => "تم التفاعل مع الرسالة", "Reaction sent";
    ReactionRemoved => "أُزيل التفاعل", "Reaction removed";
    SandboxReaction => "تفاعل العميل مع الرسالة", "The customer reacted to the message";
    ConversationRead => "تم تعليم المحادثة كمقروءة", "Conversation marked as read";
    ConversationUpdated => "تم تحديث المحادثة", "Conversation updated";
    WrongFileType => "نوع الملف لا يناسب هذا النوع من الرسائل", "The file's type does not fit this kind of message";
    WebhookCreated => "تم إنشاء الويب هوك. احفظ المفتاح السري الآن فلن يظهر مرة أخرى", "Webhook created. Save the secret now: it will not be shown again";
    WebhookUpdated => "تم تحديث الويب هوك بنجاح", "Webhook updated successfully";
    WebhookDeleted => "تم حذف الويب هوك بنجاح", "Webhook deleted successfully";
    WebhookUrlNotAllowed => "لا يمكن إرسال الويب هوك إلى عنوان داخلي أو خاص", "Webhooks cannot be sent to a private or internal address";
    DeliveryReplayed => "ستُرسل هذه الدفعة مرة أخرى الآن", "The delivery will be sent again now";
    DeliveryPending => "هذه الدفعة ما زالت قيد الإرسال", "This delivery is still being sent";
    IdempotencyKeyReused => "مفتاح Idempotency-Key هذا استُخدم من قبل لطلب مختلف؛ استخدم مفتاحاً جديداً لهذا الطلب", "This Idempotency-Key was already used for a different request; use a new key for this one";
    OriginNotAllowed => "هذه الصفحة ليست من هذا الخادم ولا من المواقع المسموح لها", "This page is neither from this server nor from an allowed origin";
    Internal => "حدث خطأ في الخادم. يرجى المحاولة لاحقاً", "A server error occurred. Please try again later";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_has_both_languages() {
        for msg in Msg::ALL {
            let (ar, en) = (msg.text(Lang::Ar), msg.text(Lang::En));
            assert!(!ar.is_empty() && !en.is_empty(), "{msg:?}");
            assert!(
                ar.chars().any(|c| ('\u{0600}'..='\u{06FF}').contains(&c)),
                "{msg:?} Arabic"
            );
            assert!(en.is_ascii(), "{msg:?} English");
        }
    }
}
