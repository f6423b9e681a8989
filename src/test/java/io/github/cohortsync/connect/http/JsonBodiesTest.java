package io.github.cohortsync.connect.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.ObjectMapper;

import okhttp3.MediaType;
import okhttp3.RequestBody;
import okio.Buffer;

class JsonBodiesTest {
    private static final MediaType JSON_TYPE = MediaType.get("application/json; charset=utf-8");

    private static String written(RequestBody body) throws IOException {
        try (Buffer sink = new Buffer()) {
            body.writeTo(sink);
            return sink.readUtf8();
        }
    }

    @Test
    void writesTheGeneratorsJsonAsUtf8WithTheGivenTypeAndExactLength() throws IOException {
        RequestBody body = JsonBodies.write(JSON_TYPE, 1, "a test body", json -> {
            json.writeStartObject();
            json.writeStringField("name", "Zoë \"Q\" 日本 😀\n");
            json.writeNumberField("id", 9_007_199_254_740_993L);
            json.writeNullField("none");
            json.writeEndObject();
        });

        String text = written(body);
        assertThat(body.contentType()).isEqualTo(JSON_TYPE);
        assertThat(body.contentLength()).isEqualTo(text.getBytes(StandardCharsets.UTF_8).length);
        assertThat(text).isEqualTo("{\"name\":\"Zoë \\\"Q\\\" 日本 \\uD83D\\uDE00\\n\",\"id\":9007199254740993,"
                + "\"none\":null}");
        assertThat(new ObjectMapper().readTree(text).path("name").asText()).isEqualTo("Zoë \"Q\" 日本 😀\n");
        // A retry writes the same body again.
        assertThat(written(body)).isEqualTo(text);
    }

    @Test
    void anUnpairedSurrogateTravelsAsItsEscapeNotAsAQuestionMark() throws IOException {
        RequestBody body = JsonBodies.write(JSON_TYPE, 16, "a test body", json -> json.writeString("a\uD800b"));

        assertThat(written(body)).isEqualTo("\"a\\uD800b\"");
    }

    @Test
    void aWriterThatFailsIsReportedWithWhatWasWrittenAndNoData() {
        assertThatThrownBy(() -> JsonBodies.write(JSON_TYPE, 16, "a CleverTap upload", json -> {
            json.writeStartObject();
            json.writeStringField("Email", "ada@example.com");
            json.writeStringField("x", "y");
            json.writeEndArray();
        }))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("Could not write a CleverTap upload as JSON")
                .hasCauseInstanceOf(IOException.class);
    }

    @Test
    void aBufferGrowsResetsAndIsWrappedAsABodyOfExactlyItsBytes() throws IOException {
        JsonBodies.Buffer piece = new JsonBodies.Buffer(0);
        try (com.fasterxml.jackson.core.JsonGenerator json = JsonBodies.generator(piece)) {
            json.writeString("Zoë \"Q\" 😀");
        }
        JsonBodies.Buffer body = new JsonBodies.Buffer(1);
        body.write('[');
        for (int i = 0; i < 100; i++) {
            if (i > 0) {
                body.write(',');
            }
            body.write(piece);
        }
        body.write(new byte[] {'x', ']', 'y'}, 1, 1);

        String one = "\"Zoë \\\"Q\\\" \\uD83D\\uDE00\"";
        String expected = "[" + String.join(",", java.util.Collections.nCopies(100, one)) + "]";
        RequestBody request = body.body(JSON_TYPE);
        assertThat(body.size()).isEqualTo(expected.getBytes(StandardCharsets.UTF_8).length);
        assertThat(request.contentLength()).isEqualTo(body.size());
        assertThat(written(request)).isEqualTo(expected);
        assertThat(written(request)).isEqualTo(expected);
        assertThat(new ObjectMapper().readTree(expected).get(99).asText()).isEqualTo("Zoë \"Q\" 😀");

        piece.reset();
        assertThat(piece.size()).isZero();
        piece.write('1');
        assertThat(written(piece.body(JSON_TYPE))).isEqualTo("1");
    }
}
