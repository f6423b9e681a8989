package io.github.cohortsync.connect.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * A webhook receiver for benchmarks on 127.0.0.1 that answers at once: it reads the body, takes the action from
 * it, counts the members (occurrences of {@code "mixpanel_distinct_id"}) and answers
 * {@code {"action": <same>, "status": "success"}}. It checks nothing else: correctness is the integration tests' job.
 */
final class InstantWebhookReceiver implements AutoCloseable {
    private static final byte[] ACTION_KEY = "\"action\":\"".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] MEMBER_KEY = "\"mixpanel_distinct_id\"".getBytes(StandardCharsets.US_ASCII);

    private final HttpServer server;
    private final ExecutorService executor;
    private final AtomicLong requests = new AtomicLong();
    private final AtomicLong members = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();

    private InstantWebhookReceiver(HttpServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    static InstantWebhookReceiver start(int threads) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
        ExecutorService executor = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "bench-receiver");
            t.setDaemon(true);
            return t;
        });
        InstantWebhookReceiver receiver = new InstantWebhookReceiver(server, executor);
        server.createContext("/hook", receiver::handle);
        server.setExecutor(executor);
        server.start();
        return receiver;
    }

    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/hook";
    }

    private void handle(HttpExchange exchange) throws IOException {
        byte[] body;
        try (InputStream in = exchange.getRequestBody()) {
            body = in.readAllBytes();
        }
        String action = action(body);
        long count = count(body, MEMBER_KEY);
        requests.incrementAndGet();
        members.addAndGet(count);
        bytes.addAndGet(body.length);
        byte[] answer = ("{\"action\":\"" + action + "\",\"status\":\"success\"}").getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(200, answer.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(answer);
        }
    }

    private static String action(byte[] body) {
        int at = indexOf(body, ACTION_KEY, 0);
        if (at < 0) {
            return "";
        }
        int start = at + ACTION_KEY.length;
        int end = start;
        while (end < body.length && body[end] != '"') {
            end++;
        }
        return new String(body, start, end - start, StandardCharsets.UTF_8);
    }

    private static long count(byte[] body, byte[] needle) {
        long n = 0;
        int from = 0;
        while ((from = indexOf(body, needle, from)) >= 0) {
            n++;
            from += needle.length;
        }
        return n;
    }

    private static int indexOf(byte[] hay, byte[] needle, int from) {
        outer:
        for (int i = from; i <= hay.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    long requests() {
        return requests.get();
    }

    long members() {
        return members.get();
    }

    long bytes() {
        return bytes.get();
    }

    void reset() {
        requests.set(0);
        members.set(0);
        bytes.set(0);
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
        try {
            executor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
