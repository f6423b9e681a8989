package io.github.cohortsync.connect.destination;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Values that JSON writing can get wrong, and the check that a streamed request body is the JSON the destination
 * built as a tree of nodes before it streamed its bodies.
 */
public final class TrickyJson {
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Quotes, backslash, slash, the escaped control characters and other C0 controls, DEL, Latin, CJK, a dash, an
     * emoji (a surrogate pair), a line separator and text that looks like JSON or HTML.
     */
    public static final String TEXT = "Zoë \"Q\" O'Brien \\ a/b\n\t\r\b\f\u0000\u0001\u001f\u007f – 日本語 😀"
            + " \u2028 {\"x\":[1]} </script>";

    private TrickyJson() {
    }

    /** {@code text} with a suffix that keeps values distinct per member. */
    public static String text(int i) {
        return TEXT + " #" + i;
    }

    /**
     * The body is byte for byte what Jackson's UTF-8 writer made of the tree the destination used to build, and
     * the same JSON (read back as a tree) as that tree's {@code toString()}, which CleverTap and Braze sent.
     */
    public static void assertSameJson(byte[] body, JsonNode tree) throws IOException {
        assertThat(new String(body, StandardCharsets.UTF_8))
                .isEqualTo(new String(JSON.writeValueAsBytes(tree), StandardCharsets.UTF_8));
        // Both read back, so that numbers compare by value (a tree holds a long 0 where parsing makes an int 0).
        assertThat(JSON.readTree(body)).isEqualTo(JSON.readTree(tree.toString()));
    }

    /** A fresh tree to build the reference body in. */
    public static ObjectMapper mapper() {
        return JSON;
    }
}
