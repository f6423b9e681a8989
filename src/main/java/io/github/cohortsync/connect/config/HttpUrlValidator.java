package io.github.cohortsync.connect.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;

import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;

/** Accepts an unset value or an absolute http(s) URL with a host. */
public final class HttpUrlValidator implements ConfigDef.Validator {
    @Override
    public void ensureValid(String name, Object value) {
        if (value == null || value.toString().isEmpty()) {
            return;
        }
        String text = value.toString().trim();
        URI uri;
        try {
            uri = new URI(text);
        } catch (URISyntaxException e) {
            throw new ConfigException(name, redact(text), "is not a valid URL: " + e.getReason());
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new ConfigException(name, redact(text), "must start with http:// or https://");
        }
        if (uri.getHost() == null || uri.getHost().isEmpty()) {
            throw new ConfigException(name, redact(text), "has no host name");
        }
    }

    /** URLs may carry tokens in their query or user info: never echo those back. */
    public static String redact(String url) {
        int query = url.indexOf('?');
        String withoutQuery = query >= 0 ? url.substring(0, query) + "?..." : url;
        return withoutQuery.replaceFirst("//[^/@]*@", "//...@");
    }

    @Override
    public String toString() {
        return "an http:// or https:// URL";
    }
}
