package io.github.cohortsync.connect.http;

import java.util.regex.Pattern;

/** Masks what looks like an email address or a phone number in text from a destination, before it is logged. */
public final class PersonalData {
    private static final Pattern EMAIL = Pattern.compile("[^\\s\"'<>(),;:]+@[^\\s\"'<>(),;:]+");
    private static final Pattern PHONE = Pattern.compile("\\+?\\d[\\d ()./-]{5,}\\d");
    private static final int MAX_LENGTH = 300;

    private PersonalData() {
    }

    /** The text with emails and phone-like digit runs replaced, shortened; null stays null. */
    public static String mask(String text) {
        if (text == null) {
            return null;
        }
        String masked = PHONE.matcher(EMAIL.matcher(text).replaceAll("<email>")).replaceAll("<number>");
        return masked.length() > MAX_LENGTH ? masked.substring(0, MAX_LENGTH) + "..." : masked;
    }
}
