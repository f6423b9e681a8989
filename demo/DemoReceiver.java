/*
 * A stand-in for a marketing tool's cohort-sync webhook, for the demo (demo/run.sh).
 * Single file, JDK only:
 *
 *   java demo/DemoReceiver.java --port 8090 [--user demo --password demo-secret] [--pages-file pages.tsv]
 *
 * Every POST is one page {"action": ..., "parameters": {...}} (SPEC section 5, webhook). The receiver
 * prints it, answers {"action": <the same action>, "status": "success"} and applies it to the cohort
 * memberships it keeps ("members" page 1 replaces a cohort, further pages and "add_members" add,
 * "remove_members" removes). GET /summary returns those memberships and the page counts, one per line:
 *
 *   pages add_members=2 remove_members=1 members=0 rejected=0
 *   cohort 1001 alice,dave
 *
 * With --user/--password, a request without those HTTP Basic credentials gets 401.
 */

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Executors;

public class DemoReceiver {

    private static final PrintStream OUT = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss");

    private final String expectedAuth;
    private final Path pagesFile;
    private final Map<String, TreeSet<String>> cohorts = new TreeMap<>();
    private final Map<String, Integer> pageCounts = new LinkedHashMap<>();
    private int rejected;

    DemoReceiver(String user, String password, Path pagesFile) {
        this.expectedAuth = user == null ? null
                : "Basic " + Base64.getEncoder().encodeToString(
                        (user + ":" + (password == null ? "" : password)).getBytes(StandardCharsets.UTF_8));
        this.pagesFile = pagesFile;
        for (String action : List.of("add_members", "remove_members", "members")) {
            pageCounts.put(action, 0);
        }
    }

    public static void main(String[] args) throws IOException {
        int port = 8090;
        String user = null;
        String password = null;
        Path pagesFile = null;
        for (int i = 0; i < args.length; i++) {
            String value = i + 1 < args.length ? args[i + 1] : null;
            switch (args[i]) {
                case "--port" -> { port = Integer.parseInt(value); i++; }
                case "--user" -> { user = value; i++; }
                case "--password" -> { password = value; i++; }
                case "--pages-file" -> { pagesFile = Path.of(value); i++; }
                default -> {
                    System.err.println("usage: java DemoReceiver.java --port N [--user U --password P] [--pages-file F]");
                    System.exit(2);
                }
            }
        }
        DemoReceiver receiver = new DemoReceiver(user, password, pagesFile);
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 50);
        server.createContext("/", receiver::handle);
        server.setExecutor(Executors.newFixedThreadPool(4));
        server.start();
        OUT.printf("Demo webhook receiver listening on http://127.0.0.1:%d/ (basic auth %s)%n",
                port, user == null ? "off" : "required, user " + user);
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String method = exchange.getRequestMethod();
            if ("GET".equals(method)) {
                respond(exchange, 200, "text/plain; charset=utf-8", summary());
            } else if ("POST".equals(method)) {
                receivePage(exchange);
            } else {
                respond(exchange, 405, "text/plain; charset=utf-8", "use POST (pages) or GET (summary)\n");
            }
        } catch (RuntimeException e) {
            OUT.println(time() + " receiver error: " + e);
        }
    }

    private void receivePage(HttpExchange exchange) throws IOException {
        String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        if (expectedAuth != null && !expectedAuth.equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
            synchronized (this) {
                rejected++;
            }
            OUT.println(time() + " REJECTED a request without the expected basic auth credentials (401)");
            respond(exchange, 401, "application/json",
                    failure("", "missing or wrong basic auth credentials", 401));
            return;
        }
        Object parsed;
        try {
            parsed = new Json(body).parse();
        } catch (IllegalArgumentException e) {
            OUT.println(time() + " REJECTED a body that is not JSON: " + e.getMessage());
            respond(exchange, 400, "application/json", failure("", "body is not JSON: " + e.getMessage(), 400));
            return;
        }
        Map<?, ?> page = parsed instanceof Map<?, ?> m ? m : Map.of();
        String action = String.valueOf(page.get("action"));
        Map<?, ?> params = page.get("parameters") instanceof Map<?, ?> m ? m : Map.of();
        Map<?, ?> pageInfo = params.get("page_info") instanceof Map<?, ?> m ? m : Map.of();
        List<?> members = params.get("members") instanceof List<?> l ? l : List.of();
        String cohortId = text(params.get("mixpanel_cohort_id"));
        String pageCount = text(pageInfo.get("page_count"));
        String totalPages = text(pageInfo.get("total_pages"));
        List<String> ids = new ArrayList<>();
        for (Object member : members) {
            ids.add(member instanceof Map<?, ?> m ? text(m.get("mixpanel_distinct_id")) : String.valueOf(member));
        }
        if (!pageCounts.containsKey(action)) {
            OUT.println(time() + " REJECTED a page with unknown action '" + action + "'");
            respond(exchange, 400, "application/json", failure(action, "unknown action '" + action + "'", 400));
            return;
        }

        synchronized (this) {
            pageCounts.merge(action, 1, Integer::sum);
            TreeSet<String> cohort = cohorts.computeIfAbsent(cohortId, k -> new TreeSet<>());
            switch (action) {
                case "members" -> {
                    if ("1".equals(pageCount)) {
                        cohort.clear();
                    }
                    cohort.addAll(ids);
                }
                case "add_members" -> cohort.addAll(ids);
                default -> ids.forEach(cohort::remove);
            }
            String idempotencyKey = exchange.getRequestHeaders().getFirst("Idempotency-Key");
            String session = text(params.get("mixpanel_session_id"));
            OUT.printf("%s %-14s cohort %s \"%s\" (project %s)  page %s/%s  session %s%n",
                    time(), action, cohortId, text(params.get("mixpanel_cohort_name")),
                    text(params.get("mixpanel_project_id")), pageCount, totalPages, session);
            OUT.printf("           members: %s%n", String.join(", ", ids));
            if (!members.isEmpty()) {
                OUT.printf("           first member: %s%n", Json.write(members.get(0)));
            }
            OUT.printf("           Idempotency-Key: %s%n", idempotencyKey);
            if (pagesFile != null) {
                String line = String.join("\t", action, cohortId, pageCount, totalPages, session,
                        String.valueOf(idempotencyKey), String.join(",", ids)) + "\n";
                Files.writeString(pagesFile, line, StandardCharsets.UTF_8,
                        StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            }
        }
        respond(exchange, 200, "application/json",
                "{\"action\": " + Json.write(action) + ", \"status\": \"success\"}");
    }

    private synchronized String summary() {
        StringBuilder out = new StringBuilder("pages");
        pageCounts.forEach((action, count) -> out.append(' ').append(action).append('=').append(count));
        out.append(" rejected=").append(rejected).append('\n');
        cohorts.forEach((id, members) -> out.append("cohort ").append(id).append(' ')
                .append(String.join(",", members)).append('\n'));
        return out.toString();
    }

    private static String failure(String action, String message, int code) {
        return "{\"action\": " + Json.write(action) + ", \"status\": \"failure\", \"error\": {\"message\": "
                + Json.write(message) + ", \"code\": " + code + "}}";
    }

    private static void respond(HttpExchange exchange, int status, String contentType, String body)
            throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", contentType);
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream os = exchange.getResponseBody()) {
            os.write(bytes);
        }
    }

    private static String text(Object value) {
        if (value instanceof Double d && d == Math.rint(d) && !d.isInfinite()) {
            return String.valueOf(d.longValue());
        }
        return String.valueOf(value);
    }

    private static String time() {
        return LocalTime.now().format(CLOCK);
    }

    /** Just enough JSON for the demo: objects, arrays, strings, numbers (as Double), booleans, null. */
    static final class Json {
        private final String s;
        private int i;

        Json(String s) {
            this.s = s;
        }

        Object parse() {
            Object value = value();
            skipSpace();
            if (i != s.length()) {
                throw error("trailing characters");
            }
            return value;
        }

        private Object value() {
            skipSpace();
            if (i >= s.length()) {
                throw error("unexpected end");
            }
            char c = s.charAt(i);
            switch (c) {
                case '{': {
                    i++;
                    Map<String, Object> map = new LinkedHashMap<>();
                    skipSpace();
                    if (peek('}')) {
                        return map;
                    }
                    do {
                        skipSpace();
                        String key = string();
                        skipSpace();
                        expect(':');
                        map.put(key, value());
                        skipSpace();
                    } while (peek(','));
                    expect('}');
                    return map;
                }
                case '[': {
                    i++;
                    List<Object> list = new ArrayList<>();
                    skipSpace();
                    if (peek(']')) {
                        return list;
                    }
                    do {
                        list.add(value());
                        skipSpace();
                    } while (peek(','));
                    expect(']');
                    return list;
                }
                case '"':
                    return string();
                default:
                    if (s.startsWith("true", i)) {
                        i += 4;
                        return Boolean.TRUE;
                    }
                    if (s.startsWith("false", i)) {
                        i += 5;
                        return Boolean.FALSE;
                    }
                    if (s.startsWith("null", i)) {
                        i += 4;
                        return null;
                    }
                    int start = i;
                    while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) {
                        i++;
                    }
                    try {
                        return Double.parseDouble(s.substring(start, i));
                    } catch (NumberFormatException e) {
                        throw error("unexpected character '" + c + "'");
                    }
            }
        }

        private String string() {
            expect('"');
            StringBuilder out = new StringBuilder();
            while (i < s.length()) {
                char c = s.charAt(i++);
                if (c == '"') {
                    return out.toString();
                }
                if (c != '\\') {
                    out.append(c);
                    continue;
                }
                if (i >= s.length()) {
                    break;
                }
                char e = s.charAt(i++);
                switch (e) {
                    case 'n' -> out.append('\n');
                    case 't' -> out.append('\t');
                    case 'r' -> out.append('\r');
                    case 'b' -> out.append('\b');
                    case 'f' -> out.append('\f');
                    case 'u' -> {
                        if (i + 4 > s.length()) {
                            throw error("bad \\u escape");
                        }
                        out.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                        i += 4;
                    }
                    default -> out.append(e);
                }
            }
            throw error("unterminated string");
        }

        private void skipSpace() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
        }

        private boolean peek(char c) {
            if (i < s.length() && s.charAt(i) == c) {
                i++;
                return true;
            }
            return false;
        }

        private void expect(char c) {
            if (!peek(c)) {
                throw error("expected '" + c + "'");
            }
        }

        private IllegalArgumentException error(String message) {
            return new IllegalArgumentException(message + " at character " + i);
        }

        static String write(Object value) {
            if (value == null) {
                return "null";
            }
            if (value instanceof String str) {
                StringBuilder out = new StringBuilder("\"");
                for (char c : str.toCharArray()) {
                    switch (c) {
                        case '"' -> out.append("\\\"");
                        case '\\' -> out.append("\\\\");
                        case '\n' -> out.append("\\n");
                        case '\r' -> out.append("\\r");
                        case '\t' -> out.append("\\t");
                        default -> {
                            if (c < 0x20) {
                                out.append(String.format("\\u%04x", (int) c));
                            } else {
                                out.append(c);
                            }
                        }
                    }
                }
                return out.append('"').toString();
            }
            if (value instanceof Map<?, ?> map) {
                StringBuilder out = new StringBuilder("{");
                map.forEach((k, v) -> out.append(out.length() > 1 ? ", " : "")
                        .append(write(String.valueOf(k))).append(": ").append(write(v)));
                return out.append('}').toString();
            }
            if (value instanceof List<?> list) {
                StringBuilder out = new StringBuilder("[");
                list.forEach(v -> out.append(out.length() > 1 ? ", " : "").append(write(v)));
                return out.append(']').toString();
            }
            return text(value);
        }
    }
}
