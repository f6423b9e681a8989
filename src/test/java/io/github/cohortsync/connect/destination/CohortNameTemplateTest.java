package io.github.cohortsync.connect.destination;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import io.github.cohortsync.connect.record.CohortRef;

/** What a cohort whose name is unknown can still be matched by. */
class CohortNameTemplateTest {
    private static final CohortRef NAMELESS = new CohortRef("42", null, null, "p-1");

    @Test
    void theDefaultIterableTemplateMatchesAnyNameEndingInTheCohortId() {
        CohortNameTemplate.Affixes affixes = new CohortNameTemplate("mixpanel_${cohort_name}_${cohort_id}")
                .affixes(NAMELESS);

        assertThat(affixes).isEqualTo(new CohortNameTemplate.Affixes("mixpanel_", "_42"));
        assertThat(affixes.matches("mixpanel_Power users_42")).isTrue();
        assertThat(affixes.matches("mixpanel_Power users_142")).isFalse();
        assertThat(affixes.matches("mixpanel__42")).isFalse();
        assertThat(affixes.matches("other_Power users_42")).isFalse();
    }

    @Test
    void templatesThatCannotTellCohortsApartHaveNoAffixes() {
        assertThat(new CohortNameTemplate("${cohort_name}").affixes(NAMELESS)).isNull();
        assertThat(new CohortNameTemplate("${cohort_id} ${cohort_name}").affixes(NAMELESS)).isNull();
        assertThat(new CohortNameTemplate("${cohort_name}-${cohort_name}-${cohort_id}").affixes(NAMELESS)).isNull();
        assertThat(new CohortNameTemplate("${project_id}/${cohort_name}/${cohort_id}")
                .affixes(new CohortRef("42", null, null, null))).isNull();
        assertThat(new CohortNameTemplate("${project_id}/${cohort_name}/${cohort_id}").affixes(NAMELESS))
                .isEqualTo(new CohortNameTemplate.Affixes("p-1/", "/42"));
    }
}
