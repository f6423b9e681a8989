package io.github.cohortsync.connect.http;

import java.util.regex.Pattern;

/**
 * Masks what looks like an email address or a phone number, and the call's own secret, in text from a destination
 * before it is logged: destinations may echo records or credentials back in their answers.
 */
public final class PersonalData {
    private static final Pattern EMAIL = Pattern.compile("[^\\s\"'<>(),;:]+@[^\\s\"'<>(),;:]+");
    private static final Pattern PHONE = Pattern.compile("\\+?\\d[\\d ()./-]{5,}\\d");
    private static final int MAX_LENGTH = 300;

    private PersonalData() {
    }

    /** The text with emails and phone-like digit runs replaced, shortened; null stays null. */
    public static String mask(String text) {
        return mask(text, null);
    }

    /** As {@link #mask(String)}, and every occurrence of {@code secret} (when not blank) replaced too. */
    public static String mask(String text, String secret) {
        if (text == null) {
            return null;
        }
        if (secret != null && !secret.isBlank()) {
            text = text.replace(secret, "<secret>");
        }
        String masked = PHONE.matcher(EMAIL.matcher(text).replaceAll("<email>")).replaceAll("<number>");
        return masked.length() > MAX_LENGTH ? masked.substring(0, MAX_LENGTH) + "..." : masked;
    }
}
