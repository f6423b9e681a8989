package io.github.cohortsync.connect.record;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.Month;
import java.time.Year;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoField;
import java.time.temporal.TemporalAccessor;

/**
 * ISO-8601 date-times to epoch milliseconds. The common shape {@code yyyy-MM-ddTHH:mm:ss[.f…](Z|±hh:mm)} (and no
 * zone, read as UTC) is read directly; anything else goes to {@link DateTimeFormatter#ISO_DATE_TIME}. The formatter
 * costs about 70% of parsing a record (docs/benchmarks.md); the direct read gives the same answer for every text it
 * accepts.
 */
final class IsoTimestamps {

    /** Returned by {@link #fastPath} for a text it leaves to the formatter; no valid instant maps to it. */
    static final long NOT_COMMON = Long.MIN_VALUE;

    private IsoTimestamps() {
    }

    /** @throws DateTimeException when the text is no ISO-8601 date-time */
    static long toEpochMillis(String text) {
        long millis = fastPath(text);
        return millis != NOT_COMMON ? millis : withFormatter(text);
    }

    /** The common shape read directly, or {@link #NOT_COMMON}. */
    static long fastPath(String text) {
        int length = text.length();
        if (length < 19 || text.charAt(4) != '-' || text.charAt(7) != '-' || text.charAt(10) != 'T'
                || text.charAt(13) != ':' || text.charAt(16) != ':') {
            return NOT_COMMON;
        }
        int year = digits(text, 0, 4);
        int month = digits(text, 5, 2);
        int day = digits(text, 8, 2);
        int hour = digits(text, 11, 2);
        int minute = digits(text, 14, 2);
        int second = digits(text, 17, 2);
        if (year < 0 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23
                || minute < 0 || minute > 59 || second < 0 || second > 59) {
            return NOT_COMMON;
        }
        int pos = 19;
        int millisOfSecond = 0;
        if (pos < length && text.charAt(pos) == '.') {
            int start = ++pos;
            while (pos < length && isDigit(text.charAt(pos))) {
                pos++;
            }
            int fractionDigits = pos - start;
            if (fractionDigits < 1 || fractionDigits > 9) {
                return NOT_COMMON;
            }
            // Milliseconds truncate the fraction, as Instant.toEpochMilli does.
            millisOfSecond = digits(text, start, Math.min(3, fractionDigits));
            for (int i = fractionDigits; i < 3; i++) {
                millisOfSecond *= 10;
            }
        }
        int offsetSeconds;
        if (pos == length) {
            offsetSeconds = 0; // no zone: read as UTC
        } else if (pos == length - 1 && text.charAt(pos) == 'Z') {
            offsetSeconds = 0;
        } else if (pos == length - 6 && (text.charAt(pos) == '+' || text.charAt(pos) == '-')
                && text.charAt(pos + 3) == ':') {
            int offsetHours = digits(text, pos + 1, 2);
            int offsetMinutes = digits(text, pos + 4, 2);
            if (offsetHours < 0 || offsetMinutes < 0 || offsetMinutes > 59
                    || offsetHours * 60 + offsetMinutes > 18 * 60) {
                return NOT_COMMON;
            }
            offsetSeconds = (offsetHours * 3600 + offsetMinutes * 60) * (text.charAt(pos) == '-' ? -1 : 1);
        } else {
            return NOT_COMMON;
        }
        if (day > 28 && day > Month.of(month).length(Year.isLeap(year))) {
            return NOT_COMMON; // the formatter rejects it
        }
        long epochDay = LocalDate.of(year, month, day).toEpochDay();
        long epochSecond = epochDay * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds;
        return epochSecond * 1000 + millisOfSecond;
    }

    static long withFormatter(String text) {
        TemporalAccessor parsed = DateTimeFormatter.ISO_DATE_TIME.parse(text);
        if (parsed.isSupported(ChronoField.OFFSET_SECONDS)) {
            return Instant.from(parsed).toEpochMilli();
        }
        // No zone given: the contract reads such timestamps as UTC.
        return LocalDateTime.from(parsed).toInstant(ZoneOffset.UTC).toEpochMilli();
    }

    /** The non-negative number written by {@code count} ASCII digits at {@code start}, or -1. */
    private static int digits(String text, int start, int count) {
        int value = 0;
        for (int i = start; i < start + count; i++) {
            char c = text.charAt(i);
            if (!isDigit(c)) {
                return -1;
            }
            value = value * 10 + (c - '0');
        }
        return value;
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }
}
