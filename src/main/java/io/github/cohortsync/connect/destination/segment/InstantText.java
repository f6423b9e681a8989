package io.github.cohortsync.connect.destination.segment;

/**
 * {@code Instant.ofEpochMilli(millis).toString()} written into a char array without allocating, for the years
 * 0000–9999: {@code yyyy-MM-ddTHH:mm:ssZ}, with {@code .SSS} before the {@code Z} when the milliseconds are not 0
 * (ISO-8601 as {@code DateTimeFormatter.ISO_INSTANT} prints an instant of whole milliseconds). Outside those years
 * the caller falls back to {@code Instant.toString}.
 */
final class InstantText {
    /** The longest text written: {@code 9999-12-31T23:59:59.999Z}. */
    static final int MAX_LENGTH = 24;
    /** 0000-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z. */
    static final long MIN_MILLIS = -62_167_219_200_000L;
    static final long MAX_MILLIS = 253_402_300_799_999L;

    private InstantText() {
    }

    /**
     * Writes the instant's text at the start of {@code out} (at least {@link #MAX_LENGTH} long) and returns its
     * length, or -1 (writing nothing) when the instant is outside the years 0000–9999.
     */
    static int write(long epochMillis, char[] out) {
        if (epochMillis < MIN_MILLIS || epochMillis > MAX_MILLIS) {
            return -1;
        }
        long epochSecond = Math.floorDiv(epochMillis, 1000L);
        int millis = (int) Math.floorMod(epochMillis, 1000L);
        long epochDay = Math.floorDiv(epochSecond, 86_400L);
        int secondOfDay = (int) Math.floorMod(epochSecond, 86_400L);
        // Days to the proleptic Gregorian calendar (H. Hinnant's civil_from_days), in 400-year eras from 0000-03-01.
        long z = epochDay + 719_468L;
        long era = Math.floorDiv(z, 146_097L);
        long dayOfEra = z - era * 146_097L;
        long yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365;
        long dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100);
        long monthFromMarch = (5 * dayOfYear + 2) / 153;
        int day = (int) (dayOfYear - (153 * monthFromMarch + 2) / 5 + 1);
        int month = (int) (monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9);
        int year = (int) (yearOfEra + era * 400 + (month <= 2 ? 1 : 0));
        digits(out, 0, year, 4);
        out[4] = '-';
        digits(out, 5, month, 2);
        out[7] = '-';
        digits(out, 8, day, 2);
        out[10] = 'T';
        digits(out, 11, secondOfDay / 3_600, 2);
        out[13] = ':';
        digits(out, 14, secondOfDay / 60 % 60, 2);
        out[16] = ':';
        digits(out, 17, secondOfDay % 60, 2);
        int length = 19;
        if (millis != 0) {
            out[19] = '.';
            digits(out, 20, millis, 3);
            length = 23;
        }
        out[length++] = 'Z';
        return length;
    }

    /** {@code value} (not negative) as exactly {@code width} decimal digits, zero-padded, at {@code at}. */
    private static void digits(char[] out, int at, int value, int width) {
        for (int i = at + width - 1; i >= at; i--) {
            out[i] = (char) ('0' + value % 10);
            value /= 10;
        }
    }
}
