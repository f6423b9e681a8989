package io.github.cohortsync.connect.it.standin;

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

import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.Headers;

/**
 * What every vendor stand-in shares: a MockWebServer on 127.0.0.1 that this object answers, and the list of
 * violations (requests that break a vendor rule; tests expect none). The vendor's rules, and the sources they are
 * taken from, stay in each subclass.
 *
 * <p>State is guarded by {@code this}: {@link #dispatch} implementations synchronize on the stand-in, and so do
 * the getters.
 */
public abstract class StandIn extends Dispatcher implements AutoCloseable {
    protected static final ObjectMapper JSON = new ObjectMapper();

    private final MockWebServer server = new MockWebServer();
    /** Every broken rule, in arrival order; guarded by {@code this}. */
    protected final List<String> violations = new ArrayList<>();

    /** Starts {@code standIn} answering on a free loopback port. */
    protected static <T extends StandIn> T listen(T standIn) throws IOException {
        MockWebServer server = ((StandIn) standIn).server;
        server.setDispatcher(standIn);
        server.start(InetAddress.getByName("127.0.0.1"), 0);
        return standIn;
    }

    /** The base URL the connector is configured with. */
    public String url() {
        return "http://127.0.0.1:" + port();
    }

    /** The loopback port the stand-in listens on. */
    public int port() {
        return server.getPort();
    }

    public synchronized List<String> violations() {
        return new ArrayList<>(violations);
    }

    /** Records {@code violation} unless {@code ok}; callers hold the lock. */
    protected void check(boolean ok, String violation) {
        if (!ok) {
            violations.add(violation);
        }
    }

    /** The request's JSON body (a missing node when it has none), or null, a violation, when it is not JSON. */
    protected JsonNode parse(RecordedRequest request) {
        try {
            return JSON.readTree(bodyBytes(request));
        } catch (IOException e) {
            violations.add("unparsable body");
            return null;
        }
    }

    /** The request body's bytes; none when it has no body. */
    protected static byte[] bodyBytes(RecordedRequest request) {
        return request.getBody() == null ? new byte[0] : request.getBody().toByteArray();
    }

    /** An answer with a JSON body. */
    protected static MockResponse json(int status, String body) {
        return new MockResponse(status, Headers.of("Content-Type", "application/json"), body);
    }

    protected static MockResponse json(int status, JsonNode body) {
        return json(status, body.toString());
    }

    /** A deep copy of {@code sets} without its empty sets (e.g. cohorts nobody is a member of any more). */
    protected static Map<String, Set<String>> nonEmptyCopy(Map<String, Set<String>> sets) {
        Map<String, Set<String>> copy = new TreeMap<>();
        sets.forEach((key, set) -> {
            if (!set.isEmpty()) {
                copy.put(key, new TreeSet<>(set));
            }
        });
        return copy;
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (Exception e) {
            // best effort: a test is over
        }
    }
}
