// The emoji picker's own data: the emoji people use most in customer chats, by group, with
// names in both languages for search. No third-party code or font: the system draws them.
export const EMOJI_GROUPS = [
  ['smileys', ['😀', '😃', '😄', '😁', '😊', '🙂', '😉', '😍', '🥰', '😘', '😋', '😎', '🤩', '🥳', '😇', '🤗', '🤔', '🤨', '😐', '😶', '🙄', '😏', '😌', '😴', '😅', '😂', '🤣', '🥲', '😢', '😭', '😤', '😡', '😱', '😳', '🥺', '😬', '🤐', '😷', '🤒', '🤝']],
  ['gestures', ['👍', '👎', '👌', '✌️', '🤞', '👏', '🙌', '🙏', '💪', '👋', '🤙', '👉', '👈', '☝️', '✋', '🫡', '🤲', '✍️']],
  ['hearts', ['❤️', '🧡', '💛', '💚', '💙', '💜', '🖤', '🤍', '💔', '💕', '💖', '💯', '✨', '⭐', '🌟', '🔥', '🎉', '🎁']],
  ['business', ['✅', '☑️', '❌', '⚠️', '❗', '❓', '⏰', '⏳', '📅', '📞', '📱', '💬', '📧', '📦', '🚚', '🛒', '💳', '💰', '🧾', '📄', '📎', '📍', '🏪', '🔒']],
  ['nature', ['🌹', '🌷', '🌸', '💐', '🌙', '☀️', '🌴', '🐪', '☕', '🍵', '🍰', '🎂', '🍫', '🥤', '🍽️', '🕌', '🕋', '🤲']],
];

/** Names people search emoji by, in Arabic and English. */
export const EMOJI_NAMES = {
  '😀': 'smile ابتسامة', '😂': 'laugh tears ضحك', '😍': 'love heart eyes حب', '😊': 'happy سعيد', '😢': 'sad cry حزين بكاء',
  '😡': 'angry غضب', '🤔': 'think تفكير', '👍': 'ok yes like تمام موافق', '👎': 'no dislike رفض', '🙏': 'please thanks شكرا رجاء',
  '👏': 'clap تصفيق', '❤️': 'heart love قلب حب', '🔥': 'fire hot نار', '🎉': 'party celebrate احتفال', '✅': 'done check تم',
  '❌': 'no cross خطأ لا', '⏰': 'time alarm وقت منبه', '📦': 'package order طلب شحنة', '🚚': 'delivery truck توصيل شحن',
  '💳': 'card pay بطاقة دفع', '💰': 'money مال', '🧾': 'receipt invoice فاتورة', '📞': 'call phone اتصال', '📍': 'location موقع',
  '🌹': 'rose flower وردة', '💐': 'flowers bouquet ورد باقة', '☕': 'coffee قهوة', '🎂': 'cake birthday كعكة عيد ميلاد',
  '🕌': 'mosque مسجد', '🌙': 'moon ramadan هلال رمضان', '👋': 'hello wave مرحبا', '🤝': 'deal handshake اتفاق مصافحة',
};
