package io.github.cohortsync.connect.destination;

/** How destinations read a member's value (a property or field) as an identifier. */
public final class MemberValues {
    private MemberValues() {
    }

    /** A non-blank string, or a number or boolean as text; null for anything else (missing, blank, nested). */
    public static String idText(Object value) {
        if (value instanceof String text) {
            return text.isBlank() ? null : text;
        }
        return value instanceof Number || value instanceof Boolean ? value.toString() : null;
    }
}
