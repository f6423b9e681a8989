package io.github.cohortsync.connect.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * Stand-ins for the webhook and the SaaS APIs for benchmarks on 127.0.0.1 that answer at once with success. They
 * read the body and count requests and members (occurrences of a per-API key such as {@code "mixpanel_distinct_id"}),
 * and check nothing else: correctness is the integration tests' job. Paths: {@code /hook} (webhook),
 * {@code /v1/batch} (Segment), {@code /api/lists...} (Iterable), {@code /1/upload} (CleverTap),
 * {@code /users/track} (Braze, attribute mode), {@code /api/named_users/tags} (Airship). With
 * {@link #answerStatus(int)} other than 200 every call is answered with that status (a destination that is down).
 *
 * <p>For the realistic benchmark ({@link RealisticBenchmark}) it runs in its own process ({@link #main}) and stands in
 * for a remote API: a round trip with jitter before every answer, and account-wide limits shared by every client (a
 * token bucket of requests per second answering 429 with {@code Retry-After} beyond it; a maximum of requests being
 * processed at once answering 429 beyond it, as CleverTap's 15 concurrent uploads per account). Both are set and read
 * through {@code /_bench/config} and {@code /_bench/stats} on the same port.
 *
 * <p>For the webhook it also tells apart the removes of users whose add it received earlier from removes of users
 * it never saw added: those entered and left within one sync, and the SPEC's ideal sends nothing for them.
 */
final class InstantReceiver implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The webhook's page size (batch.max.size default). */
    private static final int FULL_PAGE = 1000;
    private static final byte[] ACTION_KEY = "\"action\":\"".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] WEBHOOK_MEMBER = "\"mixpanel_distinct_id\":\"".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] SEGMENT_MEMBER = "\"userId\"".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] ITERABLE_MEMBER = "\"email\"".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CLEVERTAP_MEMBER = "\"evtName\"".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] BRAZE_MEMBER = "\"external_id\"".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] MARKETO_MEMBER = "{\"id\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] MARKETO_EMAIL = "filterValues=".getBytes(StandardCharsets.US_ASCII);

    private final HttpServer server;
    private final ExecutorService executor;
    private final AtomicLong requests = new AtomicLong();
    private final AtomicLong members = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicLong partialWebhookPages = new AtomicLong();
    private final AtomicLong removesAfterAdd = new AtomicLong();
    private final AtomicLong removesWithoutAdd = new AtomicLong();
    /** Users ("u" + number) received in webhook add pages. */
    private final BitSet added = new BitSet();
    private final Map<String, Long> iterableLists = new ConcurrentHashMap<>();
    private final Map<String, Long> marketoLists = new ConcurrentHashMap<>();
    private volatile int answerStatus = 200;
    /** Added before each answer, to stand in for a remote API's round trip; 0 answers at once. */
    private volatile long delayMs;
    /** Each round trip is delayMs plus or minus up to this, uniformly. */
    private volatile long jitterMs;
    /** Account-wide requests per second; null: no limit. */
    private volatile TokenBucket bucket;
    /** Account-wide requests processed at once; 0: no limit. */
    private volatile int maxConcurrent;
    private final AtomicInteger inProgress = new AtomicInteger();
    private final AtomicInteger inProgressPeak = new AtomicInteger();
    private final AtomicLong rejected = new AtomicLong();

    private InstantReceiver(HttpServer server, ExecutorService executor, long delayMs) {
        this.server = server;
        this.executor = executor;
        this.delayMs = delayMs;
    }

    static InstantReceiver start(int threads) throws IOException {
        return start(threads, 0);
    }

    /** @param delayMs added before each answer (needs as many threads as requests in flight to overlap) */
    static InstantReceiver start(int threads, long delayMs) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
        ExecutorService executor = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "bench-receiver");
            t.setDaemon(true);
            return t;
        });
        InstantReceiver receiver = new InstantReceiver(server, executor, delayMs);
        server.createContext("/", receiver::handle);
        server.setExecutor(executor);
        server.start();
        return receiver;
    }

    /** The base URL: the webhook is {@code baseUrl() + "/hook"}, the SaaS stand-ins take it as their endpoint. */
    String baseUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    void answerStatus(int status) {
        answerStatus = status;
    }

    private void handle(HttpExchange exchange) throws IOException {
        byte[] body;
        try (InputStream in = exchange.getRequestBody()) {
            body = in.readAllBytes();
        }
        if (exchange.getRequestURI().getPath().startsWith("/_bench/")) {
            admin(exchange);
            return;
        }
        requests.incrementAndGet();
        bytes.addAndGet(body.length);
        // Limits are checked on arrival, as an API's gateway does; a refused call still pays the round trip.
        int concurrent = inProgress.incrementAndGet();
        inProgressPeak.accumulateAndGet(concurrent, Math::max);
        try {
            int limit = maxConcurrent;
            TokenBucket tokens = bucket;
            long waitMs = tokens == null ? 0 : tokens.take();
            if ((limit > 0 && concurrent > limit) || waitMs > 0) {
                inProgress.decrementAndGet();
                concurrent = -1;
                rejected.incrementAndGet();
                roundTrip();
                // Retry-After in whole seconds (RFC 9110 section 10.2.3), at least 1; Braze also sends the reset
                // time as X-RateLimit-Reset (braze-docs "Rate limits"). CleverTap answers 429 over its 15
                // concurrent uploads per account (reference/destinations.md, CleverTap).
                long seconds = Math.max(1, (waitMs + 999) / 1000);
                exchange.getResponseHeaders().set("Retry-After", Long.toString(seconds));
                exchange.getResponseHeaders().set("X-RateLimit-Reset",
                        Long.toString(System.currentTimeMillis() / 1000 + seconds));
                answer(exchange, 429, "{\"error\":\"rate limited by the benchmark's stand-in\"}");
                return;
            }
            roundTrip();
            answerCall(exchange, body);
        } finally {
            if (concurrent > 0) {
                inProgress.decrementAndGet();
            }
        }
    }

    private void roundTrip() {
        long delay = delayMs;
        long jitter = jitterMs;
        if (jitter > 0) {
            delay += ThreadLocalRandom.current().nextLong(-jitter, jitter + 1);
        }
        if (delay > 0) {
            try {
                Thread.sleep(delay);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * {@code /_bench/config?delay.ms=&jitter.ms=&rps=&burst=&concurrent=&status=} sets what is given (rps 0: no
     * limit; burst defaults to one second of rps; concurrent 0: no limit) and answers the settings; {@code /_bench/reset}
     * zeroes the counters; {@code /_bench/stats} answers the counters as JSON.
     */
    private void admin(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getPath();
        Map<String, String> query = query(exchange.getRequestURI());
        switch (path) {
            case "/_bench/config" -> {
                if (query.containsKey("delay.ms")) {
                    delayMs = Long.parseLong(query.get("delay.ms"));
                }
                if (query.containsKey("jitter.ms")) {
                    jitterMs = Long.parseLong(query.get("jitter.ms"));
                }
                if (query.containsKey("rps")) {
                    double rps = Double.parseDouble(query.get("rps"));
                    double burst = Double.parseDouble(query.getOrDefault("burst", Double.toString(rps)));
                    TokenBucket current = bucket;
                    if (rps <= 0) {
                        bucket = null;
                    } else if (current != null) {
                        current.set(rps, burst);
                    } else {
                        bucket = new TokenBucket(rps, burst);
                    }
                }
                if (query.containsKey("concurrent")) {
                    maxConcurrent = Integer.parseInt(query.get("concurrent"));
                }
                if (query.containsKey("status")) {
                    answerStatus = Integer.parseInt(query.get("status"));
                }
                TokenBucket current = bucket;
                answer(exchange, 200, "{\"delay.ms\":" + delayMs + ",\"jitter.ms\":" + jitterMs + ",\"rps\":"
                        + (current == null ? 0 : current.rate) + ",\"concurrent\":" + maxConcurrent + "}");
            }
            case "/_bench/reset" -> {
                reset();
                answer(exchange, 200, "{}");
            }
            case "/_bench/stats" -> answer(exchange, 200, "{\"requests\":" + requests() + ",\"members\":" + members()
                    + ",\"rejected\":" + rejected.get() + ",\"in_progress_peak\":" + inProgressPeak.get()
                    + ",\"partial_webhook_pages\":" + partialWebhookPages() + "}");
            default -> answer(exchange, 404, "{}");
        }
    }

    private static Map<String, String> query(URI uri) {
        Map<String, String> query = new HashMap<>();
        if (uri.getRawQuery() != null) {
            for (String pair : uri.getRawQuery().split("&")) {
                int eq = pair.indexOf('=');
                if (eq > 0) {
                    query.put(pair.substring(0, eq), pair.substring(eq + 1));
                }
            }
        }
        return query;
    }

    /**
     * Requests per second shared by every caller: {@code burst} tokens at most, refilled at {@code rate} per
     * second; a call that finds no token is refused and told how long until one is there.
     */
    static final class TokenBucket {
        private double rate;
        private double burst;
        private double tokens;
        private long lastNanos = System.nanoTime();

        TokenBucket(double rate, double burst) {
            this.rate = rate;
            this.burst = Math.max(1, burst);
            this.tokens = this.burst;
        }

        synchronized void set(double rate, double burst) {
            refill();
            this.rate = rate;
            this.burst = Math.max(1, burst);
            this.tokens = Math.min(tokens, this.burst);
        }

        /** Takes a token: 0 when there was one, else the milliseconds until there is one (nothing taken). */
        synchronized long take() {
            refill();
            if (tokens >= 1) {
                tokens -= 1;
                return 0;
            }
            return Math.max(1, (long) Math.ceil((1 - tokens) / rate * 1000));
        }

        private void refill() {
            long now = System.nanoTime();
            tokens = Math.min(burst, tokens + (now - lastNanos) / 1e9 * rate);
            lastNanos = now;
        }
    }

    /**
     * The stand-in in its own process, on 127.0.0.1 only: {@code --threads N} (64), {@code --max-seconds S} (3600).
     * Prints {@code port=<port>} once listening; stops when its standard input ends (the benchmark that started it
     * ended or closed it) or after max-seconds, whichever comes first.
     */
    public static void main(String[] args) throws Exception {
        System.setProperty("sun.net.httpserver.nodelay", "true");
        int threads = 64;
        long maxSeconds = 3600;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--threads" -> threads = Integer.parseInt(args[i + 1]);
                case "--max-seconds" -> maxSeconds = Long.parseLong(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        InstantReceiver receiver = start(threads, 0);
        System.out.println("port=" + receiver.server.getAddress().getPort());
        System.out.flush();
        Thread lifetime = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
                while (in.readLine() != null) {
                    // nothing is sent; the end of the stream is the signal
                }
            } catch (IOException e) {
                // the parent is gone
            }
            System.exit(0);
        }, "stand-in-stdin");
        lifetime.setDaemon(true);
        lifetime.start();
        Thread.sleep(TimeUnit.SECONDS.toMillis(maxSeconds));
        System.exit(0);
    }

    private void answerCall(HttpExchange exchange, byte[] body) throws IOException {
        if (answerStatus != 200) {
            answer(exchange, answerStatus, "{\"error\":\"down for the benchmark\"}");
            return;
        }
        String path = exchange.getRequestURI().getPath();
        switch (path) {
            case "/hook" -> answer(exchange, 200, webhook(body));
            case "/v1/batch" -> {
                members.addAndGet(count(body, SEGMENT_MEMBER));
                answer(exchange, 200, "{\"success\":true}");
            }
            case "/api/lists" -> answer(exchange, 200, iterableLists(exchange.getRequestMethod(), body));
            case "/api/lists/subscribe", "/api/lists/unsubscribe" -> {
                long n = count(body, ITERABLE_MEMBER);
                members.addAndGet(n);
                answer(exchange, 200, "{\"successCount\":" + n + ",\"failCount\":0,\"invalidEmails\":[],"
                        + "\"invalidUserIds\":[],\"notFoundEmails\":[],\"notFoundUserIds\":[]}");
            }
            case "/1/upload" -> {
                long n = count(body, CLEVERTAP_MEMBER);
                members.addAndGet(n);
                answer(exchange, 200, "{\"status\":\"success\",\"processed\":" + n + ",\"unprocessed\":[]}");
            }
            case "/users/track" -> {
                long n = count(body, BRAZE_MEMBER);
                members.addAndGet(n);
                answer(exchange, 201, "{\"message\":\"success\",\"attributes_processed\":" + n + "}");
            }
            case "/api/named_users/tags" -> {
                members.addAndGet(JSON.readTree(body).path("audience").path("named_user_id").size());
                answer(exchange, 200, "{\"ok\":true}");
            }
            case "/identity/oauth/token" -> answer(exchange, 200, "{\"access_token\":\"bench-token\","
                    + "\"token_type\":\"bearer\",\"expires_in\":3599}");
            case "/rest/v1/lists.json", "/rest/asset/v1/staticLists.json" ->
                    answer(exchange, 200, marketoLists(exchange, body));
            case "/rest/v1/leads.json" -> answer(exchange, 200, marketoLeads(body));
            default -> {
                if (path.startsWith("/rest/v1/lists/")) {
                    // Marketo list membership: ids in the body (add) or the query (remove); per-id results left
                    // out (the connector reads only skipped ones).
                    String query = exchange.getRequestURI().getRawQuery();
                    long n = "DELETE".equals(exchange.getRequestMethod())
                            ? (query == null ? 0 : query.split("&").length) : count(body, MARKETO_MEMBER);
                    members.addAndGet(n);
                    answer(exchange, 200, "{\"success\":true,\"result\":[]}");
                } else {
                    answer(exchange, 404, "{}");
                }
            }
        }
    }

    /** Marketo's list lookup by name (the lists made so far) and static list creation (form-encoded name). */
    private String marketoLists(HttpExchange exchange, byte[] body) {
        var answer = JSON.createObjectNode().put("success", true);
        var result = answer.putArray("result");
        if ("POST".equals(exchange.getRequestMethod())) {
            String name = "";
            for (String pair : new String(body, StandardCharsets.UTF_8).split("&")) {
                if (pair.startsWith("name=")) {
                    name = java.net.URLDecoder.decode(pair.substring(5), StandardCharsets.UTF_8);
                }
            }
            String listName = name;
            result.addObject().put("id", marketoLists.computeIfAbsent(listName, n -> 1000L + marketoLists.size()))
                    .put("name", listName);
        } else {
            String query = exchange.getRequestURI().getQuery();
            marketoLists.forEach((name, id) -> {
                if (query != null && query.contains("name=" + name + "&")) {
                    result.addObject().put("id", id).put("name", name);
                }
            });
        }
        return answer.toString();
    }

    /** Marketo's lead lookup by email: each benchmark email's digits are its lead id. */
    private static String marketoLeads(byte[] body) {
        StringBuilder answer = new StringBuilder("{\"success\":true,\"result\":[");
        int at = indexOf(body, MARKETO_EMAIL, 0);
        if (at >= 0) {
            String values = new String(body, at + MARKETO_EMAIL.length, body.length - at - MARKETO_EMAIL.length,
                    StandardCharsets.US_ASCII);
            int end = values.indexOf('&');
            String[] emails = java.net.URLDecoder.decode(end < 0 ? values : values.substring(0, end),
                    StandardCharsets.UTF_8).split(",");
            for (int i = 0; i < emails.length; i++) {
                String digits = emails[i].replaceAll("[^0-9]", "");
                answer.append(i == 0 ? "" : ",").append("{\"id\":").append(digits.isEmpty() ? 1 : Long.parseLong(digits) + 1)
                        .append(",\"email\":\"").append(emails[i]).append("\"}");
            }
        }
        return answer.append("]}").toString();
    }

    private String webhook(byte[] body) {
        String action = valueAfter(body, ACTION_KEY, 0);
        boolean add = "add_members".equals(action);
        long n = 0;
        int from = 0;
        while ((from = indexOf(body, WEBHOOK_MEMBER, from)) >= 0) {
            n++;
            from += WEBHOOK_MEMBER.length;
            int user = userNumber(body, from);
            if (user >= 0) {
                synchronized (added) {
                    if (add) {
                        added.set(user);
                    } else if (added.get(user)) {
                        removesAfterAdd.incrementAndGet();
                    } else {
                        removesWithoutAdd.incrementAndGet();
                    }
                }
            }
        }
        members.addAndGet(n);
        if (n < FULL_PAGE) {
            partialWebhookPages.incrementAndGet();
        }
        return "{\"action\":\"" + action + "\",\"status\":\"success\"}";
    }

    /** The benchmark's users are "u" and ten digits; -1 for any other id. */
    private static int userNumber(byte[] body, int at) {
        if (at + 11 > body.length || body[at] != 'u') {
            return -1;
        }
        long n = 0;
        for (int i = at + 1; i < at + 11; i++) {
            if (body[i] < '0' || body[i] > '9') {
                return -1;
            }
            n = n * 10 + (body[i] - '0');
        }
        return n > Integer.MAX_VALUE ? -1 : (int) n;
    }

    private String iterableLists(String method, byte[] body) throws IOException {
        if ("POST".equals(method)) {
            String name = JSON.readTree(body).path("name").asText();
            long id = iterableLists.computeIfAbsent(name, n -> (long) iterableLists.size() + 1);
            return "{\"listId\":" + id + "}";
        }
        var lists = JSON.createObjectNode();
        var array = lists.putArray("lists");
        iterableLists.forEach((name, id) -> array.addObject().put("id", id).put("name", name));
        return JSON.writeValueAsString(lists);
    }

    private static void answer(HttpExchange exchange, int status, String text) throws IOException {
        byte[] answer = text.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, answer.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(answer);
        }
    }

    private static String valueAfter(byte[] body, byte[] key, int from) {
        int at = indexOf(body, key, from);
        if (at < 0) {
            return "";
        }
        int start = at + key.length;
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

    /** Webhook pages of fewer than 1000 members. */
    long partialWebhookPages() {
        return partialWebhookPages.get();
    }

    /** Webhook removes of users whose add this receiver got earlier: churn across syncs (two members, unavoidable). */
    long removesAfterAdd() {
        return removesAfterAdd.get();
    }

    /** Webhook removes of users never received as added: they entered and left within one sync. */
    long removesWithoutAdd() {
        return removesWithoutAdd.get();
    }

    void reset() {
        requests.set(0);
        members.set(0);
        bytes.set(0);
        partialWebhookPages.set(0);
        removesAfterAdd.set(0);
        removesWithoutAdd.set(0);
        synchronized (added) {
            added.clear();
        }
        iterableLists.clear();
        marketoLists.clear();
        answerStatus = 200;
        rejected.set(0);
        inProgressPeak.set(0);
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
