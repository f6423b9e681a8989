package io.github.cohortsync.connect.http;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import javax.net.SocketFactory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import okhttp3.ConnectionPool;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import okhttp3.Response;
import okhttp3.ResponseBody;

/** The task's HTTP client: building it, addressing and reading destination calls, and shutting it down. */
public final class HttpClients {
    static final ObjectMapper JSON = new ObjectMapper();
    /**
     * Idle connections kept per task: as many as the most pages a task may have in flight (the maximum of
     * sync.max.in.flight.requests), so that a task whose adaptive limit is high does not reconnect after every burst
     * (OkHttp's default pool keeps 5).
     */
    static final int MAX_IDLE_CONNECTIONS = 64;

    private HttpClients() {
    }

    public static OkHttpClient create(int timeoutMs) {
        Duration timeout = Duration.ofMillis(timeoutMs);
        return new OkHttpClient.Builder()
                .connectTimeout(timeout)
                .readTimeout(timeout)
                .writeTimeout(timeout)
                // Retries are the retry policy's alone, so that they are counted and backed off.
                .retryOnConnectionFailure(false)
                .connectionPool(new ConnectionPool(MAX_IDLE_CONNECTIONS, 5, TimeUnit.MINUTES))
                // Nagle's algorithm would hold each body's last segment for the peer's delayed ACK (≈ 40 ms).
                .socketFactory(new NoDelaySocketFactory(SocketFactory.getDefault()))
                .build();
    }

    /** The base URL (an endpoint override or a region's host) with the API path appended, slash or not. */
    public static HttpUrl url(String baseUrl, String pathSegments) {
        return HttpUrl.get(baseUrl.trim()).newBuilder().addPathSegments(pathSegments).build();
    }

    /** The answer's body as text; null when it has none. */
    public static String readBody(Response response) throws IOException {
        ResponseBody body = response.body();
        return body == null ? null : body.string();
    }

    /** The text as JSON, or null when it is empty or not JSON: callers decide what a missing answer means. */
    public static JsonNode jsonOrNull(String text) {
        if (text == null || text.isBlank()) {
            return null;
        }
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            return null;
        }
    }

    /** Aborts calls in flight and releases the client's threads and connections. */
    public static void close(OkHttpClient client) {
        client.dispatcher().cancelAll();
        client.dispatcher().executorService().shutdown();
        client.connectionPool().evictAll();
    }
}
