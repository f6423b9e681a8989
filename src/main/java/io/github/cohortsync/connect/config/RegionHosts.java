package io.github.cohortsync.connect.config;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A destination's regions (or instances) and the API host of each, in documented order. Names match ignoring case;
 * an unknown one is refused with every valid name listed.
 */
public final class RegionHosts {
    private final String what;
    private final Map<String, String> hosts;

    /**
     * @param what  what a name is, for errors, e.g. "Iterable region"
     * @param hosts name to base URL, in the order the names are documented
     */
    public RegionHosts(String what, Map<String, String> hosts) {
        this.what = what;
        this.hosts = new LinkedHashMap<>(hosts);
    }

    /** From name, host, name, host...: the order given is the documented order. */
    public static RegionHosts of(String what, String... namesAndHosts) {
        Map<String, String> hosts = new LinkedHashMap<>();
        for (int i = 0; i < namesAndHosts.length; i += 2) {
            hosts.put(namesAndHosts[i], namesAndHosts[i + 1]);
        }
        return new RegionHosts(what, hosts);
    }

    /** The valid names, in documented order. */
    public List<String> names() {
        return List.copyOf(hosts.keySet());
    }

    /** The validator of a key that takes one of these names. */
    public OneOf validator() {
        return new OneOf(names());
    }

    /** The base URL of a name (case-insensitive). */
    public String host(String name) {
        String wanted = name.trim();
        return hosts.entrySet().stream()
                .filter(e -> e.getKey().equalsIgnoreCase(wanted))
                .map(Map.Entry::getValue)
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("Unknown " + what + " '" + name + "'; valid "
                        + what.substring(what.lastIndexOf(' ') + 1).toLowerCase(Locale.ROOT) + "s: "
                        + String.join(", ", hosts.keySet())));
    }
}
