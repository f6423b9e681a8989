package io.github.cohortsync.connect.it.standin;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;

/**
 * The request bodies of Iterable's list calls, as JSON schemas transcribed from Iterable's Swagger file
 * ({@code api-docs.json} in the GitHub repository Iterable/api-client; see the resource's comments for what is the
 * Swagger's and what is ours), checked with a JSON-schema validator.
 */
final class IterableRequestSchema {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNode DEFINITIONS = load();
    private static final SchemaRegistry REGISTRY = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);

    static final IterableRequestSchema CREATE_LIST = new IterableRequestSchema("CreateListRequest");
    static final IterableRequestSchema SUBSCRIBE = new IterableRequestSchema("SubscribeRequest");
    static final IterableRequestSchema UNSUBSCRIBE = new IterableRequestSchema("UnsubscribeRequest");

    private final String name;
    private final Schema schema;

    private IterableRequestSchema(String name) {
        this.name = name;
        this.schema = REGISTRY.getSchema(DEFINITIONS.path("$defs").path(name));
    }

    private static JsonNode load() {
        try (InputStream in = IterableRequestSchema.class.getResourceAsStream("/iterable/list-requests.schema.json")) {
            return JSON.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** What is wrong with {@code body} under this schema, each naming the schema and the place; empty when valid. */
    List<String> violations(JsonNode body) {
        return schema.validate(body).stream().map(error -> name + ": " + error).toList();
    }
}
