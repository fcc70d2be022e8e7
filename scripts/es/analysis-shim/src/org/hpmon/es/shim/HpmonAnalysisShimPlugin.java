/*
 * hpmon test-only Elasticsearch plugin.
 *
 * The Maven Central "integ-test-zip" distribution of Elasticsearch 8.x/9.x ships
 * only the modules transport-netty4, x-pack-core, x-pack-security and apm. It
 * lacks the "analysis-common" module that every normal Elasticsearch install
 * has, so asciifolding, cjk_width, cjk_bigram, the cjk analyzer, html_strip ...
 * are missing. This plugin registers those names, with the same settings and
 * the same Lucene classes as analysis-common, so that hpmon's production index
 * settings can be used unchanged against the test server.
 *
 * Never install this on a real cluster (the names would clash with
 * analysis-common there). Built by scripts/elasticsearch.sh fetch against the
 * jars of the exact server version.
 */
package org.hpmon.es.shim;

import java.io.Reader;
import java.util.List;
import java.util.Map;

import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.CharArraySet;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.charfilter.HTMLStripCharFilter;
import org.apache.lucene.analysis.cjk.CJKAnalyzer;
import org.apache.lucene.analysis.cjk.CJKBigramFilter;
import org.apache.lucene.analysis.cjk.CJKWidthFilter;
import org.apache.lucene.analysis.miscellaneous.ASCIIFoldingFilter;
import org.apache.lucene.analysis.util.ElisionFilter;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.index.IndexSettings;
import org.elasticsearch.index.analysis.Analysis;
import org.elasticsearch.index.analysis.AnalyzerProvider;
import org.elasticsearch.index.analysis.AnalyzerScope;
import org.elasticsearch.index.analysis.CharFilterFactory;
import org.elasticsearch.index.analysis.NormalizingCharFilterFactory;
import org.elasticsearch.index.analysis.NormalizingTokenFilterFactory;
import org.elasticsearch.index.analysis.PreBuiltAnalyzerProviderFactory;
import org.elasticsearch.index.analysis.PreConfiguredCharFilter;
import org.elasticsearch.index.analysis.PreConfiguredTokenFilter;
import org.elasticsearch.index.analysis.TokenFilterFactory;
import org.elasticsearch.indices.analysis.AnalysisModule.AnalysisProvider;
import org.elasticsearch.indices.analysis.PreBuiltCacheFactory.CachingStrategy;
import org.elasticsearch.plugins.AnalysisPlugin;
import org.elasticsearch.plugins.Plugin;

public class HpmonAnalysisShimPlugin extends Plugin implements AnalysisPlugin {

    // The factories implement the interfaces directly (not the Abstract* base classes,
    // whose constructors differ between 8.x and 9.x) so one source builds for both.
    abstract static class Named {
        private final String name;

        Named(String name) {
            this.name = name;
        }

        public String name() {
            return name;
        }
    }

    @Override
    public Map<String, AnalysisProvider<TokenFilterFactory>> getTokenFilters() {
        return Map.of(
            "asciifolding", AsciiFolding::new,
            "cjk_width", CjkWidth::new,
            "cjk_bigram", CjkBigram::new,
            "elision", new AnalysisProvider<TokenFilterFactory>() {
                @Override
                public TokenFilterFactory get(IndexSettings i, Environment e, String n, Settings s) {
                    return new Elision(i, e, n, s);
                }

                @Override
                public boolean requiresAnalysisSettings() {
                    return true; // like analysis-common: only built when an index configures it
                }
            }
        );
    }

    @Override
    public Map<String, AnalysisProvider<CharFilterFactory>> getCharFilters() {
        return Map.of("html_strip", HtmlStrip::new);
    }

    @Override
    public Map<String, AnalysisProvider<AnalyzerProvider<? extends Analyzer>>> getAnalyzers() {
        return Map.of("cjk", CjkAnalyzerProvider::new);
    }

    @Override
    public List<PreConfiguredTokenFilter> getPreConfiguredTokenFilters() {
        return List.of(
            PreConfiguredTokenFilter.singleton("asciifolding", true, ASCIIFoldingFilter::new),
            PreConfiguredTokenFilter.singleton("cjk_width", true, CJKWidthFilter::new),
            PreConfiguredTokenFilter.singleton("cjk_bigram", false, CJKBigramFilter::new)
        );
    }

    @Override
    public List<PreConfiguredCharFilter> getPreConfiguredCharFilters() {
        return List.of(PreConfiguredCharFilter.singleton("html_strip", false, HTMLStripCharFilter::new));
    }

    @Override
    public List<PreBuiltAnalyzerProviderFactory> getPreBuiltAnalyzerProviderFactories() {
        return List.of(new PreBuiltAnalyzerProviderFactory("cjk", CachingStrategy.ONE, CJKAnalyzer::new));
    }

    /** Same semantics as analysis-common's ASCIIFoldingTokenFilterFactory. */
    static final class AsciiFolding extends Named implements NormalizingTokenFilterFactory {
        private final boolean preserveOriginal;

        AsciiFolding(IndexSettings indexSettings, Environment env, String name, Settings settings) {
            super(name);
            this.preserveOriginal = settings.getAsBoolean("preserve_original", false);
        }

        @Override
        public TokenStream create(TokenStream tokenStream) {
            return new ASCIIFoldingFilter(tokenStream, preserveOriginal);
        }

        @Override
        public TokenStream normalize(TokenStream tokenStream) {
            // a normalizer must produce exactly one token: never keep the original
            return new ASCIIFoldingFilter(tokenStream, false);
        }
    }

    static final class CjkWidth extends Named implements NormalizingTokenFilterFactory {
        CjkWidth(IndexSettings indexSettings, Environment env, String name, Settings settings) {
            super(name);
        }

        @Override
        public TokenStream create(TokenStream tokenStream) {
            return new CJKWidthFilter(tokenStream);
        }
    }

    /** Same settings as analysis-common's CJKBigramFilterFactory: ignored_scripts, output_unigrams. */
    static final class CjkBigram extends Named implements TokenFilterFactory {
        private final int flags;
        private final boolean outputUnigrams;

        CjkBigram(IndexSettings indexSettings, Environment env, String name, Settings settings) {
            super(name);
            this.outputUnigrams = settings.getAsBoolean("output_unigrams", false);
            List<String> ignored = settings.getAsList("ignored_scripts");
            int f = CJKBigramFilter.HAN | CJKBigramFilter.HIRAGANA | CJKBigramFilter.KATAKANA | CJKBigramFilter.HANGUL;
            for (String script : ignored) {
                switch (script.toLowerCase(java.util.Locale.ROOT)) {
                    case "han" -> f &= ~CJKBigramFilter.HAN;
                    case "hiragana" -> f &= ~CJKBigramFilter.HIRAGANA;
                    case "katakana" -> f &= ~CJKBigramFilter.KATAKANA;
                    case "hangul" -> f &= ~CJKBigramFilter.HANGUL;
                    default -> throw new IllegalArgumentException("unknown script [" + script + "] in ignored_scripts");
                }
            }
            this.flags = f;
        }

        @Override
        public TokenStream create(TokenStream tokenStream) {
            return new CJKBigramFilter(tokenStream, flags, outputUnigrams);
        }
    }

    /** Same settings as analysis-common's ElisionTokenFilterFactory: articles, articles_case. */
    static final class Elision extends Named implements NormalizingTokenFilterFactory {
        private final CharArraySet articles;

        Elision(IndexSettings indexSettings, Environment env, String name, Settings settings) {
            super(name);
            List<String> list = settings.getAsList("articles");
            if (list.isEmpty()) {
                throw new IllegalArgumentException("elision filter [" + name + "] requires [articles]");
            }
            this.articles = new CharArraySet(list, settings.getAsBoolean("articles_case", false));
        }

        @Override
        public TokenStream create(TokenStream tokenStream) {
            return new ElisionFilter(tokenStream, articles);
        }
    }

    static final class HtmlStrip extends Named implements NormalizingCharFilterFactory {
        private final java.util.Set<String> escapedTags;

        HtmlStrip(IndexSettings indexSettings, Environment env, String name, Settings settings) {
            super(name);
            List<String> tags = settings.getAsList("escaped_tags");
            this.escapedTags = tags.isEmpty() ? null : java.util.Set.copyOf(tags);
        }

        @Override
        public Reader create(Reader reader) {
            return new HTMLStripCharFilter(reader, escapedTags);
        }
    }

    /** Same settings as analysis-common's CjkAnalyzerProvider: stopwords, stopwords_path. */
    static final class CjkAnalyzerProvider extends Named implements AnalyzerProvider<CJKAnalyzer> {
        private final CJKAnalyzer analyzer;

        CjkAnalyzerProvider(IndexSettings indexSettings, Environment env, String name, Settings settings) {
            super(name);
            CharArraySet stopWords = Analysis.parseStopWords(env, settings, CJKAnalyzer.getDefaultStopSet());
            this.analyzer = new CJKAnalyzer(stopWords);
        }

        @Override
        public AnalyzerScope scope() {
            return AnalyzerScope.INDEX;
        }

        @Override
        public CJKAnalyzer get() {
            return analyzer;
        }
    }
}
