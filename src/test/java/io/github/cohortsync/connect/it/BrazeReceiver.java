package io.github.cohortsync.connect.it;

import java.io.IOException;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.Headers;

/**
 * Plays Braze's /users/track on 127.0.0.1: checks the bearer key and the attribute objects (each problem is a
 * violation), keeps the array attribute per external_id, and answers success; an external_id starting with
 * {@code bad-} is refused with an item error at its index, as Braze reports non-fatal errors.
 */
final class BrazeReceiver implements AutoCloseable {
    static final int MAX_OBJECTS = 75;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final MockWebServer server = new MockWebServer();
    private final String apiKey;
    private final String attribute;
    private final Object lock = new Object();
    private final Map<String, Set<String>> attributes = new TreeMap<>();
    private final List<String> violations = new ArrayList<>();
    private final List<Integer> objectsPerRequest = new ArrayList<>();

    private BrazeReceiver(String apiKey, String attribute) {
        this.apiKey = apiKey;
        this.attribute = attribute;
    }

    static BrazeReceiver start(String apiKey, String attribute) throws IOException {
        BrazeReceiver receiver = new BrazeReceiver(apiKey, attribute);
        receiver.server.setDispatcher(receiver.new Handler());
        receiver.server.start(InetAddress.getByName("127.0.0.1"), 0);
        return receiver;
    }

    /** The base URL to configure as {@code braze.endpoint}. */
    String url() {
        return "http://127.0.0.1:" + server.getPort();
    }

    /** The attribute's values per external_id; users whose array is empty are left out. */
    Map<String, Set<String>> attributes() {
        synchronized (lock) {
            Map<String, Set<String>> copy = new TreeMap<>();
            attributes.forEach((id, values) -> {
                if (!values.isEmpty()) {
                    copy.put(id, new TreeSet<>(values));
                }
            });
            return copy;
        }
    }

    List<String> violations() {
        synchronized (lock) {
            return List.copyOf(violations);
        }
    }

    List<Integer> objectsPerRequest() {
        synchronized (lock) {
            return List.copyOf(objectsPerRequest);
        }
    }

    @Override
    public void close() {
        server.close();
    }

    private final class Handler extends Dispatcher {
        @Override
        public MockResponse dispatch(RecordedRequest request) {
            synchronized (lock) {
                check("POST".equals(request.getMethod()), "method " + request.getMethod());
                check("/users/track".equals(request.getUrl().encodedPath()), "path " + request.getUrl().encodedPath());
                if (!("Bearer " + apiKey).equals(request.getHeaders().get("Authorization"))) {
                    return new MockResponse(401, Headers.of(), "{\"message\": \"Invalid API key\"}");
                }
                JsonNode objects;
                try {
                    objects = JSON.readTree(request.getBody().utf8()).path("attributes");
                } catch (IOException e) {
                    violations.add("unparsable body");
                    return new MockResponse(400, Headers.of(), "{\"message\": \"Invalid JSON\"}");
                }
                objectsPerRequest.add(objects.size());
                check(objects.isArray() && objects.size() > 0 && objects.size() <= MAX_OBJECTS,
                        "objects per request " + objects.size());
                ObjectNode answer = JSON.createObjectNode();
                answer.put("message", "success");
                ArrayNode errors = JSON.createArrayNode();
                int processed = 0;
                for (int i = 0; i < objects.size(); i++) {
                    JsonNode object = objects.get(i);
                    String id = object.path("external_id").asText("");
                    check(!id.isEmpty(), "object without external_id");
                    check(object.path("_update_existing_only").isBoolean(), "_update_existing_only");
                    if (id.startsWith("bad-")) {
                        errors.addObject().put("type", "'external_id' is not valid").put("input_array", "attributes")
                                .put("index", i);
                        continue;
                    }
                    JsonNode change = object.path(attribute);
                    Set<String> values = attributes.computeIfAbsent(id, k -> new TreeSet<>());
                    change.path("add").forEach(v -> values.add(v.asText()));
                    change.path("remove").forEach(v -> values.remove(v.asText()));
                    check(change.has("add") != change.has("remove"), "add xor remove");
                    processed++;
                }
                answer.put("attributes_processed", processed);
                if (!errors.isEmpty()) {
                    answer.set("errors", errors);
                }
                return new MockResponse(201, Headers.of("Content-Type", "application/json"), answer.toString());
            }
        }

        private void check(boolean ok, String what) {
            if (!ok) {
                violations.add(what);
            }
        }
    }
}
