package io.github.cohortsync.connect.destination;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

import io.github.cohortsync.connect.config.DestinationType;

/** The one registration point: every destination is registered once, as a provider that can build it. */
class DestinationRegistryTest {

    @Test
    void everyDestinationIsRegisteredOnceInItsDocumentedOrder() {
        assertThat(DestinationType.configValues()).containsExactly("webhook", "segment", "iterable", "clevertap",
                "braze", "mailchimp", "marketo", "airship");
    }

    @Test
    void everyRegisteredTypeIsAProviderThatCanBuildItsDestination() {
        assertThat(DestinationType.all()).allSatisfy(type -> assertThat(type).isInstanceOf(DestinationProvider.class));
    }

    @Test
    void aDestinationIsFoundByItsValueWhateverTheCaseAndSpaces() {
        assertThat(DestinationType.fromConfigValue(" Braze ")).containsSame(DestinationType.of("braze"));
        assertThat(DestinationType.fromConfigValue("mixpanel")).isEmpty();
        assertThat(DestinationType.fromConfigValue(null)).isEmpty();
        assertThatThrownBy(() -> DestinationType.of("mixpanel")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("mixpanel");
    }
}
