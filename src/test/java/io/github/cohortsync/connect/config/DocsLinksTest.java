package io.github.cohortsync.connect.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/**
 * Every relative link in README.md, CHANGELOG.md and docs/**&#47;*.md names a file that exists, and every
 * {@code #anchor} (in the same page or another one) names a heading of that page (GitHub's slugs) or an
 * {@code <a id="...">} in it. Links inside fenced code blocks and inline code are not links.
 */
class DocsLinksTest {
    /** Targets that may be linked before they exist; none today. */
    private static final Set<String> NOT_YET_WRITTEN = Set.of();

    /** An inline link or image, {@code [text](target)} or {@code [text](target "title")}. */
    private static final Pattern LINK = Pattern.compile("\\]\\(([^)\\s]+)(?:\\s+\"[^\"]*\")?\\)");
    private static final Pattern HEADING = Pattern.compile("^#{1,6}\\s+(.*?)\\s*#*\\s*$");
    private static final Pattern HTML_ID = Pattern.compile("<a\\s+(?:id|name)=\"([^\"]+)\"");
    private static final Pattern FENCE = Pattern.compile("^\\s*(```|~~~)");
    private static final Pattern INLINE_CODE = Pattern.compile("`[^`]*`");

    private final Map<Path, Set<String>> anchorCache = new HashMap<>();

    private static List<Path> pages() throws IOException {
        List<Path> pages = new ArrayList<>(List.of(Path.of("README.md"), Path.of("CHANGELOG.md")));
        try (Stream<Path> docs = Files.walk(Path.of("docs"))) {
            docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(pages::add);
        }
        return pages;
    }

    /** The lines of a page outside fenced code blocks, inline code removed; null for lines inside a fence. */
    private static List<String> prose(Path page) throws IOException {
        List<String> lines = new ArrayList<>();
        boolean inFence = false;
        for (String line : Files.readAllLines(page)) {
            if (FENCE.matcher(line).find()) {
                inFence = !inFence;
                lines.add(null);
                continue;
            }
            lines.add(inFence ? null : INLINE_CODE.matcher(line).replaceAll(""));
        }
        return lines;
    }

    /** GitHub's heading anchor: lower case, punctuation other than '-' and '_' dropped, spaces to '-'. */
    static String slug(String heading) {
        String text = heading.replaceAll("<[^>]+>", "").replace("`", "")
                .replaceAll("\\[([^\\]]*)]\\([^)]*\\)", "$1");
        StringBuilder slug = new StringBuilder();
        text.toLowerCase(Locale.ROOT).codePoints().forEach(c -> {
            if (Character.isLetterOrDigit(c) || c == '-' || c == '_') {
                slug.appendCodePoint(c);
            } else if (c == ' ') {
                slug.append('-');
            }
        });
        return slug.toString();
    }

    private Set<String> anchors(Path page) throws IOException {
        Set<String> cached = anchorCache.get(page);
        if (cached != null) {
            return cached;
        }
        Set<String> anchors = new HashSet<>();
        Map<String, Integer> seen = new HashMap<>();
        boolean inFence = false;
        for (String line : Files.readAllLines(page)) {
            if (FENCE.matcher(line).find()) {
                inFence = !inFence;
                continue;
            }
            if (inFence) {
                continue;
            }
            Matcher heading = HEADING.matcher(line);
            if (heading.matches()) {
                String slug = slug(heading.group(1));
                int n = seen.merge(slug, 1, Integer::sum) - 1;
                anchors.add(n == 0 ? slug : slug + "-" + n);
            }
            Matcher id = HTML_ID.matcher(line);
            while (id.find()) {
                anchors.add(id.group(1));
            }
        }
        anchorCache.put(page, anchors);
        return anchors;
    }

    /** The link's target relative to the repository root, e.g. docs/operations.md#dead-letter-queue. */
    private static String normalized(Path page, String file, String anchor) {
        Path target = file.isEmpty() ? page : page.resolveSibling(file).normalize();
        String name = target.toString().replace('\\', '/');
        return anchor == null ? name : name + "#" + anchor;
    }

    @Test
    void everyRelativeLinkAndAnchorResolves() throws IOException {
        List<String> broken = new ArrayList<>();
        int checked = 0;
        for (Path page : pages()) {
            List<String> lines = prose(page);
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i);
                if (line == null) {
                    continue;
                }
                Matcher link = LINK.matcher(line);
                while (link.find()) {
                    String target = link.group(1);
                    if (target.matches("^[a-zA-Z][a-zA-Z0-9+.-]*:.*")) {
                        continue; // https:, mailto:
                    }
                    checked++;
                    int hash = target.indexOf('#');
                    String file = hash < 0 ? target : target.substring(0, hash);
                    String anchor = hash < 0 ? null : target.substring(hash + 1);
                    Path resolved = file.isEmpty() ? page : page.resolveSibling(file).normalize();
                    String where = page + ":" + (i + 1) + ": " + target;
                    if (NOT_YET_WRITTEN.contains(normalized(page, file, null))
                            || NOT_YET_WRITTEN.contains(normalized(page, file, anchor))) {
                        continue;
                    }
                    if (!Files.exists(resolved)) {
                        broken.add(where + " (no such file)");
                    } else if (anchor != null && resolved.toString().endsWith(".md")
                            && !anchors(resolved).contains(anchor)) {
                        broken.add(where + " (no such anchor in " + resolved + ")");
                    }
                }
            }
        }
        assertThat(checked).as("relative links checked").isGreaterThan(100);
        assertThat(broken).as("broken links").isEmpty();
    }

    @Test
    void slugsFollowGitHub() {
        assertThat(slug("Case 6: the delivery journal")).isEqualTo("case-6-the-delivery-journal");
        assertThat(slug("What a rejected member's DLQ record looks like"))
                .isEqualTo("what-a-rejected-members-dlq-record-looks-like");
        assertThat(slug("Full sync, one-time export, several tasks")).isEqualTo("full-sync-one-time-export-several-tasks");
        assertThat(slug("`sync.mode` and `tasks.max`")).isEqualTo("syncmode-and-tasksmax");
        assertThat(slug("Segment/Iterable")).isEqualTo("segmentiterable");
    }

    @Test
    void aMissingAnchorIsFound() throws IOException {
        assertThat(anchors(Path.of("docs/operations.md")))
                .contains("dead-letter-queue", "full-syncs-with-several-tasks")
                .doesNotContain("no-such-section");
    }
}
