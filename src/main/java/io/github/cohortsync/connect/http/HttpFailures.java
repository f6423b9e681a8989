package io.github.cohortsync.connect.http;

import java.io.IOException;
import java.time.Clock;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;

import io.github.cohortsync.connect.delivery.ContentRejectedException;
import io.github.cohortsync.connect.delivery.PermanentDeliveryException;
import io.github.cohortsync.connect.delivery.TransientDeliveryException;

/** The one place that decides whether a failed destination call is transient or permanent. */
public final class HttpFailures {
    private static final int MAX_BODY_IN_MESSAGE = 500;

    private HttpFailures() {
    }

    /** True for statuses a later attempt may fix: 408, 425, 429 and every 5xx. */
    public static boolean isTransient(int status) {
        return status == 408 || status == 425 || status == 429 || status >= 500;
    }

    /**
     * Throws the failure for a non-2xx answer: transient for 408, 425, 429 and 5xx (with the wait the answer asked
     * for, {@link #waitMillis}, -1 for none), permanent otherwise. When the call carries a page's members
     * ({@code carriesMembers}), 400, 413 and 422 throw {@link ContentRejectedException}: the members may be the
     * cause, and the page is split to find them.
     *
     * @param what  names the call, e.g. "webhook POST https://host/path for add_members page 1/2 of cohort 7"
     * @param body  the answer's body, already cleared of anything that must not be logged
     * @param hint  what the user should check on an authentication failure, e.g. "check webhook.auth.password"
     */
    public static void throwForStatus(String what, int status, long waitMillis, String body, String hint,
                                      boolean carriesMembers)
            throws TransientDeliveryException, PermanentDeliveryException {
        String message = what + " failed with HTTP " + status + describeBody(body);
        if (isTransient(status)) {
            throw new TransientDeliveryException(message, status, waitMillis, null);
        }
        String advice = switch (status) {
            case 401, 403 -> "; " + hint;
            case 404 -> "; check that the URL is right";
            case 400, 413, 422 -> "; the destination rejected the request's content";
            default -> "";
        };
        if (carriesMembers && isContentRefusal(status)) {
            throw new ContentRejectedException(message + advice, String.valueOf(status));
        }
        throw new PermanentDeliveryException(message + advice);
    }

    /** True for the statuses of a refusal that the content of the request may have caused: 400, 413 and 422. */
    public static boolean isContentRefusal(int status) {
        return status == 400 || status == 413 || status == 422;
    }

    /** Connection refused or reset, timeouts, broken TLS handshakes: all worth another try. */
    public static TransientDeliveryException forIoError(String what, IOException e) {
        return new TransientDeliveryException(what + " failed: " + e.getClass().getSimpleName()
                + (e.getMessage() == null ? "" : ": " + e.getMessage()), -1, e);
    }

    /**
     * The wait a failed answer asks for: its {@code Retry-After}, else its {@code X-RateLimit-Reset}; -1 when neither
     * says (or neither can be read).
     */
    public static long waitMillis(String retryAfterHeader, String rateLimitResetHeader, Clock clock) {
        long wait = retryAfterMillis(retryAfterHeader, clock);
        return wait >= 0 ? wait : rateLimitResetMillis(rateLimitResetHeader, clock);
    }

    /**
     * {@code X-RateLimit-Reset}, which APIs fill three ways: Segment with the seconds to wait (its HTTP API page,
     * "Rate limits": "the number of seconds after which you can retry the request"), others with the reset time in
     * epoch seconds or epoch milliseconds. A number of at least 10^12 is read as epoch milliseconds, of at least 10^9
     * as epoch seconds (a wait of 31 years is no wait anyone means), anything smaller as seconds to wait; -1 when
     * absent or unreadable.
     */
    static long rateLimitResetMillis(String header, Clock clock) {
        if (header == null || header.isBlank()) {
            return -1;
        }
        double value;
        try {
            value = Double.parseDouble(header.trim());
        } catch (NumberFormatException notANumber) {
            return -1;
        }
        if (!(value >= 0) || Double.isInfinite(value)) {
            return -1;
        }
        if (value >= 1e12) {
            return Math.max(0, (long) value - clock.millis());
        }
        if (value >= 1e9) {
            return Math.max(0, (long) (value * 1000) - clock.millis());
        }
        return (long) Math.ceil(value * 1000);
    }

    /** Retry-After in seconds or as an HTTP date; -1 when absent or unreadable. */
    public static long retryAfterMillis(String header, Clock clock) {
        if (header == null || header.isBlank()) {
            return -1;
        }
        String value = header.trim();
        try {
            long seconds = Long.parseLong(value);
            return seconds < 0 ? -1 : seconds * 1000;
        } catch (NumberFormatException notSeconds) {
            try {
                ZonedDateTime at = ZonedDateTime.parse(value, DateTimeFormatter.RFC_1123_DATE_TIME);
                return Math.max(0, at.toInstant().toEpochMilli() - clock.millis());
            } catch (DateTimeParseException notDate) {
                return -1;
            }
        }
    }

    private static String describeBody(String body) {
        if (body == null || body.isBlank()) {
            return "";
        }
        String text = body.strip();
        if (text.length() > MAX_BODY_IN_MESSAGE) {
            text = text.substring(0, MAX_BODY_IN_MESSAGE) + "...";
        }
        return ": " + text;
    }
}
