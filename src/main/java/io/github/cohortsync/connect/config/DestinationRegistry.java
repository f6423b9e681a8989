package io.github.cohortsync.connect.config;

import java.util.List;
import java.util.ServiceLoader;

/** Loads the registered destinations once, with the plugin's own class loader (Connect isolates plugins). */
final class DestinationRegistry {
    static final List<DestinationType> ALL = load();

    private DestinationRegistry() {
    }

    private static List<DestinationType> load() {
        List<DestinationType> types = ServiceLoader.load(DestinationType.class, DestinationType.class.getClassLoader())
                .stream().map(ServiceLoader.Provider::get).toList();
        if (types.isEmpty()) {
            throw new IllegalStateException("No destination is registered in META-INF/services/"
                    + DestinationType.class.getName());
        }
        return types;
    }
}
