package io.github.cohortsync.connect.http;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

import com.fasterxml.jackson.core.io.JsonStringEncoder;

/**
 * A destination's credentials, as they must never appear in a message: each is masked as sent and as a JSON answer
 * may escape it, then personal data is masked ({@link PersonalData}).
 */
public final class Secrets {
    private final List<String> values;

    private Secrets(List<String> values) {
        this.values = values;
    }

    /** The secrets, most specific first (encoded credentials before the password in them); blanks are skipped. */
    public static Secrets of(String... values) {
        return new Secrets(Arrays.stream(values).filter(Objects::nonNull).map(String::strip)
                .filter(v -> !v.isEmpty()).toList());
    }

    /**
     * The text without any secret, then cleared of personal data; null stays null. Secrets go first:
     * {@link PersonalData#mask} shortens long text, which could cut a secret in two.
     */
    public String mask(String text) {
        if (text == null) {
            return null;
        }
        String masked = text;
        for (String secret : values) {
            String escaped = new String(JsonStringEncoder.getInstance().quoteAsString(secret));
            for (String form : List.of(secret, escaped, escaped.replace("/", "\\/"))) {
                masked = masked.replace(form, "<secret>");
            }
        }
        return PersonalData.mask(masked);
    }
}
